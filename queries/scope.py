"""Scope: which hospital trusts a user may see. Computed here and nowhere else.

A CDOP's scope is the set of trusts in its footprint on a given day (today, in
the app), so a CDOP formed by a merger sees the whole history of the hospitals
in its current footprint. NCMD administrators may hold the all-England scope.
The footprints come from a ``queries.mapping.Mapping``: the web app passes the
managed mapping in force (``dashboard.mapping_store``); without one, the deaths
store's reference mapping is used.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import date

import duckdb

from queries.mapping import Mapping, mapping_from_store


@dataclass(frozen=True)
class Scope:
    label: str
    cdop_codes: tuple[str, ...]  # the CDOPs whose footprint this is; () for all England
    trust_codes: tuple[str, ...]  # trusts whose hospital deaths are visible
    la_codes: tuple[str, ...]  # local authorities whose children count as "residents"
    day: date  # the day whose footprint mapping this scope reflects
    england: bool = False
    # every trust with a death in the store is one of trust_codes (checked when
    # the scope is made): queries may then skip the trust test, same rows
    every_trust_in_store: bool = False
    # "reviewer|trust" for each CDOP (or CDOP it absorbed) whose footprint holds
    # one of trust_codes on ``day``: a death reviewed by one of these is reviewed locally
    local_pairs: tuple[str, ...] = ()

    @property
    def key(self) -> str:
        """A stable digest of everything that decides what this scope can see,
        for keying caches (a cache keyed without it would leak between users)."""
        text = "|".join(
            [
                str(self.england),
                str(self.every_trust_in_store),
                self.day.isoformat(),
                ",".join(self.cdop_codes),
                ",".join(self.trust_codes),
                ",".join(self.la_codes),
                ",".join(self.local_pairs),
            ]
        )
        return hashlib.sha256(text.encode()).hexdigest()[:32]


class UnknownCdop(ValueError):
    """A CDOP code that is not in force on the day asked about."""


def cdop_scope(
    conn: duckdb.DuckDBPyConnection,
    cdop_codes: list[str] | tuple[str, ...],
    day: date,
    mapping: Mapping | None = None,
) -> Scope:
    """The footprint of one or more CDOPs (a user may hold several) on ``day``,
    under ``mapping`` (the web app passes the managed mapping in force; the
    store's own reference mapping otherwise). Codes of CDOPs that merged or
    changed code are followed to the CDOP in force on ``day``."""
    if not cdop_codes:
        raise UnknownCdop("a CDOP scope needs at least one CDOP")
    mapping = mapping or mapping_from_store(conn)
    found: dict[str, str] = {}
    for code in cdop_codes:
        current = mapping.current_on(code, day) if isinstance(code, str) else None
        period = mapping.cdop_on(current, day) if current else None
        if period is not None:
            found[period.code] = period.name
    if not found:
        raise UnknownCdop(f"no CDOP in force on {day:%d %B %Y} among {', '.join(map(str, cdop_codes))}")
    current_codes = tuple(sorted(found))
    trusts = mapping.trusts_of(current_codes, day)
    las = tuple(sorted({la for code in current_codes for la in mapping.cdop_on(code, day).la_codes}))  # type: ignore[union-attr]
    return Scope(
        label=" and ".join(found[code] for code in current_codes),
        cdop_codes=current_codes,
        trust_codes=trusts,
        la_codes=las,
        day=day,
        local_pairs=mapping.local_pairs(trusts, day),
    )


def england_scope(conn: duckdb.DuckDBPyConnection, day: date, mapping: Mapping | None = None) -> Scope:
    """Every English trust and local authority: for NCMD administrators only."""
    mapping = mapping or mapping_from_store(conn)
    trusts = _column(conn, "SELECT trust_code FROM ref_trusts WHERE country = 'England' ORDER BY 1", {})
    las = _column(conn, "SELECT la_code FROM ref_local_authorities ORDER BY 1", {})
    outside = conn.execute(
        "SELECT count(*) FROM (SELECT DISTINCT trust_code FROM report_facts) WHERE NOT list_contains($t, trust_code)",
        {"t": list(trusts)},
    ).fetchall()[0]
    return Scope(
        label="All England",
        cdop_codes=(),
        trust_codes=trusts,
        la_codes=las,
        day=day,
        england=True,
        every_trust_in_store=outside[0] == 0,
        local_pairs=mapping.local_pairs(trusts, day),
    )


def cdops_in_force(conn: duckdb.DuckDBPyConnection, day: date, mapping: Mapping | None = None) -> list[tuple[str, str]]:
    """(code, name) of every CDOP in existence on ``day``, by name."""
    mapping = mapping or mapping_from_store(conn)
    return [(c.code, c.name) for c in mapping.in_force(day)]


def _column(conn: duckdb.DuckDBPyConnection, sql: str, params: dict[str, object]) -> tuple[str, ...]:
    return tuple(str(row[0]) for row in conn.execute(sql, params).fetchall())

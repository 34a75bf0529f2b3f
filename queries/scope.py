"""Scope: which hospital trusts a user may see. Computed here and nowhere else.

A CDOP's scope is the set of trusts in its footprint on a given day (today, in
the app), so a CDOP formed by a merger sees the whole history of the hospitals
in its current footprint. NCMD administrators may hold the all-England scope.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import date

import duckdb


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


_IN_FORCE = "valid_from <= $day AND (valid_to IS NULL OR valid_to > $day)"


def cdop_scope(conn: duckdb.DuckDBPyConnection, cdop_codes: list[str] | tuple[str, ...], day: date) -> Scope:
    """The footprint of one or more CDOPs (a user may hold several) on ``day``.
    Codes of CDOPs that merged are followed to the successor in force on ``day``."""
    if not cdop_codes:
        raise UnknownCdop("a CDOP scope needs at least one CDOP")
    cdops = {
        str(code): (str(name), start, end, successor)
        for code, name, start, end, successor in conn.execute(
            "SELECT cdop_code, cdop_name, valid_from, valid_to, successor_code FROM ref_cdops"
        ).fetchall()
    }
    found: dict[str, str] = {}
    for code in cdop_codes:
        # follow mergers and renames forward to the CDOP in force on the day
        seen: set[str] = set()
        while isinstance(code, str) and code in cdops and code not in seen:
            seen.add(code)
            name, start, end, successor = cdops[code]
            if start <= day and (end is None or day < end):
                found[code] = name
                break
            code = successor
    if not found:
        raise UnknownCdop(f"no CDOP in force on {day:%d %B %Y} among {', '.join(map(str, cdop_codes))}")
    current = tuple(sorted(found))
    trusts = _column(
        conn,
        f"""
        SELECT DISTINCT trust_code FROM ref_footprint
        WHERE cdop_code IN (SELECT unnest($codes::VARCHAR[])) AND {_IN_FORCE} ORDER BY 1
    """,
        {"codes": list(current), "day": day},
    )
    las = _column(
        conn,
        """
        SELECT DISTINCT la_code FROM ref_cdop_las
        WHERE cdop_code IN (SELECT unnest($codes::VARCHAR[])) ORDER BY 1
    """,
        {"codes": list(current)},
    )
    label = " and ".join(found[code] for code in current)
    return Scope(
        label=label,
        cdop_codes=current,
        trust_codes=trusts,
        la_codes=las,
        day=day,
        local_pairs=_local_pairs(conn, trusts, day),
    )


def _local_pairs(conn: duckdb.DuckDBPyConnection, trusts: tuple[str, ...], day: date) -> tuple[str, ...]:
    return _column(
        conn,
        f"""
        SELECT DISTINCT c.cdop_code || '|' || fp.trust_code
        FROM ref_footprint AS fp JOIN ref_cdops AS c ON c.current_code = fp.cdop_code
        WHERE fp.trust_code IN (SELECT unnest($trusts::VARCHAR[])) AND {_IN_FORCE.replace("valid", "fp.valid")}
        ORDER BY 1
    """,
        {"trusts": list(trusts), "day": day},
    )


def england_scope(conn: duckdb.DuckDBPyConnection, day: date) -> Scope:
    """Every English trust and local authority: for NCMD administrators only."""
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
        local_pairs=_local_pairs(conn, trusts, day),
    )


def cdops_in_force(conn: duckdb.DuckDBPyConnection, day: date) -> list[tuple[str, str]]:
    """(code, name) of every CDOP in existence on ``day``, by name."""
    return [
        (str(code), str(name))
        for code, name in conn.execute(
            f"SELECT cdop_code, cdop_name FROM ref_cdops WHERE {_IN_FORCE} ORDER BY cdop_name", {"day": day}
        ).fetchall()
    ]


def _column(conn: duckdb.DuckDBPyConnection, sql: str, params: dict[str, object]) -> tuple[str, ...]:
    return tuple(str(row[0]) for row in conn.execute(sql, params).fetchall())

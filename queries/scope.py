"""Scope: which hospital trusts a user may see. Computed here and nowhere else.

A CDOP's scope is the set of trusts in its footprint on a given day (today, in
the app), so a CDOP formed by a merger sees the whole history of the hospitals
in its current footprint. NCMD administrators may hold the all-England scope.
The footprints come from a ``queries.mapping.Mapping``: the web app passes the
managed mapping in force (``dashboard.mapping_store``); without one, the deaths
store's reference mapping is used.

Which footprints a user may choose, and the scope of the one they chose
(``footprint_choices``, ``scope_for``), are decided here too: the web layer
passes the signed-in user and the value the browser sent, and nothing else.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import date
from typing import Protocol

import duckdb

from queries.filters import Option
from queries.mapping import Mapping, mapping_from_store

# The chooser's two values that are not one CDOP. Lower case with a hyphen, so
# that no CDOP code (upper case letters and digits: queries.codes.CDOP_CODE)
# can ever equal one: a CDOP coded ENGLAND is just a CDOP.
ENGLAND = "all-england"
ALL_MINE = "all-mine"


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


class NoFootprint(RuntimeError):
    """The user holds no CDOP that is in force."""


class Rights(Protocol):
    """What the scope policy needs to know of a user (the web app's account
    fits it): queries cannot import the web package's accounts."""

    @property
    def is_admin(self) -> bool: ...

    @property
    def cdop_codes(self) -> tuple[str, ...]: ...


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


def footprint_choices(user: Rights, conn: duckdb.DuckDBPyConnection, day: date, mapping: Mapping) -> tuple[Option, ...]:
    """The footprints this user may look at: their own CDOPs; for an admin,
    all England and every CDOP in force."""
    if user.is_admin:
        return (
            Option(ENGLAND, "All England"),
            *(Option(code, name) for code, name in cdops_in_force(conn, day, mapping)),
        )
    own: dict[str, str] = {}
    for code in user.cdop_codes:
        try:
            scope = cdop_scope(conn, [code], day, mapping)
        except UnknownCdop:
            continue
        own[scope.cdop_codes[0]] = scope.label
    if not own:
        raise NoFootprint("your account holds no CDOP that is in force; ask an NCMD administrator")
    choices = [Option(code, name) for code, name in sorted(own.items(), key=lambda item: item[1])]
    return (Option(ALL_MINE, "All my CDOPs"), *choices) if len(choices) > 1 else tuple(choices)


def scope_for(
    user: Rights, requested: str | None, conn: duckdb.DuckDBPyConnection, day: date, mapping: Mapping
) -> tuple[Scope, str]:
    """The scope for the footprint asked for, if this user may have it; their
    default footprint otherwise, under the mapping in force on ``day``.

    A value asked for that is not one of the user's choices (an old bookmark's
    ``ENGLAND`` or ``ALL`` included) gives their default, which is all England
    for an administrator and all their CDOPs for a user with several."""
    choices = footprint_choices(user, conn, day, mapping)
    chosen = requested if requested in {c.value for c in choices} else choices[0].value
    # all England goes to administrators only, whatever string was chosen: a
    # store written before the code rule may hold a CDOP coded like a sentinel
    if chosen == ENGLAND and user.is_admin:
        return england_scope(conn, day, mapping), chosen
    if chosen == ALL_MINE and not user.is_admin:
        return cdop_scope(conn, list(user.cdop_codes), day, mapping), chosen
    return cdop_scope(conn, [chosen], day, mapping), chosen

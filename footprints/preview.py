"""What a mapping change would do, worked out before it is applied: the trusts
that move, the users whose view changes, and the deaths each CDOP sees before
and after, counted by the report's own query layer under each mapping."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

import duckdb

from operational.accounts import User
from queries import report
from queries.filters import Filters
from queries.mapping import Mapping
from queries.scope import Scope, UnknownCdop, cdop_scope


@dataclass(frozen=True)
class Side:
    label: str
    trusts: tuple[str, ...]
    deaths: int


@dataclass(frozen=True)
class TrustMove:
    trust_code: str
    trust_name: str
    before: tuple[str, ...]  # CDOP codes whose footprint holds the trust
    after: tuple[str, ...]


@dataclass(frozen=True)
class CdopImpact:
    code: str
    before: Side | None  # None: not in force (or not yet formed) on the day
    after: Side | None


@dataclass(frozen=True)
class UserImpact:
    username: str
    before: Side | None
    after: Side | None


@dataclass(frozen=True)
class Preview:
    day: date
    trusts: tuple[TrustMove, ...]
    cdops: tuple[CdopImpact, ...]
    users: tuple[UserImpact, ...]

    @property
    def changes_anything(self) -> bool:
        return bool(self.trusts or self.cdops or self.users)

    def summary(self) -> dict[str, object]:
        """The numbers, for the audit log and the revision's record."""
        return {
            "day": self.day.isoformat(),
            "trusts_moving": [t.trust_code for t in self.trusts],
            "users_changing": [u.username for u in self.users],
            "deaths": {
                c.code: [c.before.deaths if c.before else None, c.after.deaths if c.after else None] for c in self.cdops
            },
        }


def preview(
    conn: duckdb.DuckDBPyConnection,
    old: Mapping,
    new: Mapping,
    day: date,
    users: list[User],
    trust_names: dict[str, str],
) -> Preview:
    """The difference ``new`` makes on ``day``, for every CDOP and every active CDOP user."""
    deaths: dict[tuple[str, ...], int] = {}

    def side(codes: tuple[str, ...], mapping: Mapping) -> Side | None:
        try:
            scope = cdop_scope(conn, codes, day, mapping)
        except UnknownCdop:
            return None
        if scope.trust_codes not in deaths:
            deaths[scope.trust_codes] = _deaths(conn, scope)
        return Side(scope.label, scope.trust_codes, deaths[scope.trust_codes])

    trusts = sorted({r.trust_code for r in (*old.footprint, *new.footprint)})
    moves = tuple(
        TrustMove(t, trust_names.get(t, t), old.cdops_of_trust(t, day), new.cdops_of_trust(t, day))
        for t in trusts
        if old.cdops_of_trust(t, day) != new.cdops_of_trust(t, day)
    )
    cdops = []
    for code in sorted({c.code for c in (*old.in_force(day), *new.in_force(day))}):
        before, after = side((code,), old), side((code,), new)
        if before != after:
            cdops.append(CdopImpact(code, before, after))
    changed_users = []
    for user in users:
        if not user.active or user.is_admin or not user.cdop_codes:
            continue
        before, after = side(user.cdop_codes, old), side(user.cdop_codes, new)
        if before != after:
            changed_users.append(UserImpact(user.username, before, after))
    return Preview(day=day, trusts=moves, cdops=tuple(cdops), users=tuple(changed_users))


def _deaths(conn: duckdb.DuckDBPyConnection, scope: Scope) -> int:
    """Every death in the store that happened in the scope's hospitals (no filters)."""
    if not scope.trust_codes:
        return 0
    return int(report.headline(conn, scope, Filters())["deaths"][0])


def first_difference(old: Mapping, new: Mapping, today: date) -> date:
    """The first day from ``today`` on which the two mappings put some trust or
    CDOP name differently (``today`` if they never differ from then on): the
    day an uploaded mapping is previewed on."""
    days = {today}
    for mapping in (old, new):
        days |= {r.valid_from for r in mapping.footprint} | {r.valid_to for r in mapping.footprint if r.valid_to}
        days |= {c.valid_from for c in mapping.cdops} | {c.valid_to for c in mapping.cdops if c.valid_to}
    for day in sorted(d for d in days if d >= today):
        trusts = {r.trust_code for r in (*old.footprint, *new.footprint)}
        if any(old.cdops_of_trust(t, day) != new.cdops_of_trust(t, day) for t in trusts):
            return day
        if [(c.code, c.name) for c in old.in_force(day)] != [(c.code, c.name) for c in new.in_force(day)]:
            return day
    return today

"""The trust-to-CDOP mapping as dated history: which CDOPs exist and which
trusts each footprint holds, each row valid over ``[valid_from, valid_to)``.

Plain data with the in-force rules, so that the scope (``queries.scope``) and
an administrator's preview ask the very same questions of a mapping, whether
it is the one in the deaths store's reference tables or the managed one in
the operational store.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date

import duckdb


@dataclass(frozen=True)
class CdopPeriod:
    code: str
    name: str
    region_code: str | None
    la_codes: tuple[str, ...]  # local authorities whose children are this CDOP's residents
    valid_from: date
    valid_to: date | None  # None: still in force
    successor: str | None = None  # the CDOP this one became (a merger or a change of code)
    basis: str | None = None
    row_id: int | None = field(default=None, compare=False)  # the operational store's row, if any

    def covers(self, day: date) -> bool:
        return self.valid_from <= day and (self.valid_to is None or day < self.valid_to)


@dataclass(frozen=True)
class FootprintPeriod:
    trust_code: str
    cdop_code: str
    valid_from: date
    valid_to: date | None
    row_id: int | None = field(default=None, compare=False)

    def covers(self, day: date) -> bool:
        return self.valid_from <= day and (self.valid_to is None or day < self.valid_to)


@dataclass(frozen=True)
class Mapping:
    cdops: tuple[CdopPeriod, ...]
    footprint: tuple[FootprintPeriod, ...]
    version: str = "store"  # changes whenever the mapping changes: part of every cache key

    def cdop_on(self, code: str, day: date) -> CdopPeriod | None:
        return next((c for c in self.cdops if c.code == code and c.covers(day)), None)

    def current_on(self, code: str, day: date) -> str | None:
        """The CDOP in force on ``day`` that ``code`` is or became (following
        mergers and changes of code forward); None if there is none."""
        seen: set[str] = set()
        while code not in seen:
            seen.add(code)
            if self.cdop_on(code, day) is not None:
                return code
            ended = [c for c in self.cdops if c.code == code and c.valid_to is not None and c.valid_to <= day]
            if not ended:
                return None
            successor = max(ended, key=lambda c: c.valid_from).successor
            if successor is None:
                return None
            code = successor
        return None

    def in_force(self, day: date) -> list[CdopPeriod]:
        return sorted((c for c in self.cdops if c.covers(day)), key=lambda c: c.name)

    def trusts_of(self, codes: tuple[str, ...] | list[str], day: date) -> tuple[str, ...]:
        wanted = set(codes)
        return tuple(sorted({f.trust_code for f in self.footprint if f.cdop_code in wanted and f.covers(day)}))

    def cdops_of_trust(self, trust_code: str, day: date) -> tuple[str, ...]:
        return tuple(sorted({f.cdop_code for f in self.footprint if f.trust_code == trust_code and f.covers(day)}))

    def codes(self) -> set[str]:
        return {c.code for c in self.cdops}

    def local_pairs(self, trusts: tuple[str, ...], day: date) -> tuple[str, ...]:
        """The pairs "reviewer|trust" for each CDOP, or CDOP that became it, whose
        footprint holds one of ``trusts`` on ``day``."""
        holders: dict[str, set[str]] = {}
        wanted = set(trusts)
        for row in self.footprint:
            if row.trust_code in wanted and row.covers(day):
                holders.setdefault(row.cdop_code, set()).add(row.trust_code)
        pairs = set()
        for code in self.codes():
            current = self.current_on(code, day)
            for trust in holders.get(current or "", ()):
                pairs.add(f"{code}|{trust}")
        return tuple(sorted(pairs))

    def resident_pairs(self, trusts: tuple[str, ...], day: date) -> tuple[str, ...]:
        """The pairs "local authority|trust" for each CDOP whose footprint holds
        one of ``trusts`` on ``day`` and each local authority of that CDOP: a
        death at the trust of a child from that area is a resident's death."""
        wanted = set(trusts)
        pairs = set()
        for row in self.footprint:
            period = self.cdop_on(row.cdop_code, day) if row.trust_code in wanted and row.covers(day) else None
            for la in period.la_codes if period else ():
                pairs.add(f"{la}|{row.trust_code}")
        return tuple(sorted(pairs))


def mapping_from_store(conn: duckdb.DuckDBPyConnection) -> Mapping:
    """The mapping in the deaths store's reference tables (data/reference as loaded)."""
    las: dict[str, list[str]] = {}
    for code, la in conn.execute("SELECT cdop_code, la_code FROM ref_cdop_las ORDER BY 1, 2").fetchall():
        las.setdefault(str(code), []).append(str(la))
    cdops = tuple(
        CdopPeriod(
            code=str(code),
            name=str(name),
            region_code=region,
            la_codes=tuple(las.get(str(code), ())),
            valid_from=start,
            valid_to=end,
            successor=successor,
            basis=basis,
        )
        for code, name, region, start, end, successor, basis in conn.execute(
            "SELECT cdop_code, cdop_name, region_code, valid_from, valid_to, successor_code, basis "
            "FROM ref_cdops ORDER BY cdop_code, valid_from"
        ).fetchall()
    )
    footprint = tuple(
        FootprintPeriod(str(trust), str(cdop), start, end)
        for trust, cdop, start, end in conn.execute(
            "SELECT trust_code, cdop_code, valid_from, valid_to FROM ref_footprint ORDER BY 1, 2, 3"
        ).fetchall()
    )
    return Mapping(cdops=cdops, footprint=footprint, version="store")

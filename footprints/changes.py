"""The kinds of change an administrator makes to the trust-to-CDOP mapping,
and the checks every new mapping must pass before it is applied.

Each change is a pure function from the mapping in force to a new mapping;
nothing here writes anywhere. Rows are never edited in place: a row that ends
is replaced by a copy with its end date, so the store keeps both.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass, replace
from datetime import date

import duckdb

from queries import admin
from queries.codes import cdop_code_problem
from queries.mapping import CdopPeriod, FootprintPeriod, Mapping

KINDS = ("move", "merge", "rename")


class MappingError(ValueError):
    """A change that cannot be made as asked (one line, for a person)."""


class MappingInvalid(ValueError):
    """A new mapping that fails the checks; ``problems`` has one line each."""

    def __init__(self, problems: list[str]) -> None:
        super().__init__("; ".join(problems))
        self.problems = problems


@dataclass(frozen=True)
class Reference:
    """What the deaths store knows about trusts, to check a mapping against."""

    trusts: dict[str, str]  # English trust code -> name
    hospital_trusts: frozenset[str]  # English trusts with an open inpatient hospital site


def reference(conn: duckdb.DuckDBPyConnection) -> Reference:
    trusts = admin.trust_names(conn, england_only=True)
    return Reference(trusts=trusts, hospital_trusts=admin.hospital_trust_codes(conn))


def _effective(day: date, today: date) -> None:
    if day < today:
        raise MappingError(f"the effective date {day:%d %B %Y} is in the past: changes take effect today or later")


def _open_period(mapping: Mapping, code: str, day: date) -> CdopPeriod:
    period = mapping.cdop_on(code, day)
    if period is None:
        raise MappingError(f"{code} is not a CDOP in force on {day:%d %B %Y}")
    if period.valid_to is not None:
        raise MappingError(f"{code} already ends on {period.valid_to:%d %B %Y}")
    return period


def _no_later_rows(mapping: Mapping, day: date, *, trust: str | None = None, cdop: str | None = None) -> None:
    for row in mapping.footprint:
        if row.valid_from > day and (row.trust_code == trust or row.cdop_code == cdop):
            who = trust or cdop
            raise MappingError(
                f"{who} already has a change scheduled on {row.valid_from:%d %B %Y}, after {day:%d %B %Y}: "
                "periods would overlap"
            )


def _end(row: FootprintPeriod, day: date) -> list[FootprintPeriod]:
    """The row ended on ``day`` (gone if it would start that day)."""
    return [] if row.valid_from >= day else [replace(row, valid_to=day, row_id=None)]


def move_trust(
    mapping: Mapping, trust: str, to_cdop: str, day: date, today: date, from_cdop: str | None = None
) -> Mapping:
    """``trust`` joins ``to_cdop``'s footprint on ``day``, leaving ``from_cdop``'s
    if given (without it, the trust is added and stays in any other footprint)."""
    _effective(day, today)
    trust, to_cdop = trust.strip().upper(), to_cdop.strip().upper()
    if mapping.cdop_on(to_cdop, day) is None:
        raise MappingError(f"{to_cdop or 'the new CDOP'} is not a CDOP in force on {day:%d %B %Y}")
    if to_cdop in mapping.cdops_of_trust(trust, day):
        raise MappingError(f"{trust} is already in {to_cdop}'s footprint on {day:%d %B %Y}")
    _no_later_rows(mapping, day, trust=trust)
    rows = list(mapping.footprint)
    end = None
    if from_cdop:
        from_cdop = from_cdop.strip().upper()
        leaving = [r for r in rows if r.trust_code == trust and r.cdop_code == from_cdop and r.covers(day)]
        if not leaving:
            raise MappingError(f"{trust} is not in {from_cdop}'s footprint on {day:%d %B %Y}")
        rows.remove(leaving[0])
        rows.extend(_end(leaving[0], day))
        end = leaving[0].valid_to
    rows.append(FootprintPeriod(trust, to_cdop, day, end))
    return replace(mapping, footprint=tuple(rows))


def merge_cdops(mapping: Mapping, codes: list[str], new_code: str, new_name: str, day: date, today: date) -> Mapping:
    """Two or more CDOPs become one new CDOP on ``day``: its footprint and its
    residents are theirs together; their codes lead to it from then on."""
    _effective(day, today)
    codes = sorted({c.strip().upper() for c in codes if c and c.strip()})
    new_code, new_name = new_code.strip().upper(), " ".join(new_name.split())
    if len(codes) < 2:
        raise MappingError("a merger needs at least two different CDOPs")
    problem = cdop_code_problem(new_code)
    if problem:
        raise MappingError(problem)
    if new_code in mapping.codes():
        raise MappingError(f"the code {new_code} is already used by a CDOP (past or present)")
    _check_name(mapping, new_name, day)
    periods = [_open_period(mapping, code, day) for code in codes]
    for period in periods:
        if period.valid_from >= day:
            raise MappingError(f"{period.code} only starts on {period.valid_from:%d %B %Y}; merge it from a later date")
        _no_later_rows(mapping, day, cdop=period.code)
    cdops = [c for c in mapping.cdops if c not in periods]
    cdops += [replace(p, valid_to=day, successor=new_code, row_id=None) for p in periods]
    regions = {p.region_code for p in periods}
    cdops.append(
        CdopPeriod(
            code=new_code,
            name=new_name,
            region_code=periods[0].region_code if len(regions) == 1 else None,
            la_codes=tuple(sorted({la for p in periods for la in p.la_codes})),
            valid_from=day,
            valid_to=None,
            successor=None,
            basis="admin",
        )
    )
    rows: list[FootprintPeriod] = []
    joining: dict[str, date | None] = {}
    for row in mapping.footprint:
        if row.cdop_code in codes and row.covers(day):
            rows.extend(_end(row, day))
            # a trust in both footprints is in the new one once, for as long as either held it
            previous = joining.get(row.trust_code, day)
            joining[row.trust_code] = None if row.valid_to is None or previous is None else max(row.valid_to, previous)
        else:
            rows.append(row)
    rows += [FootprintPeriod(trust, new_code, day, end) for trust, end in sorted(joining.items())]
    return replace(mapping, cdops=tuple(cdops), footprint=tuple(rows))


def rename_cdop(mapping: Mapping, code: str, new_name: str, day: date, today: date) -> Mapping:
    """A CDOP is known by a new name from ``day`` (same code, same footprint)."""
    _effective(day, today)
    code, new_name = code.strip().upper(), " ".join(new_name.split())
    period = _open_period(mapping, code, day)
    if period.name == new_name:
        raise MappingError(f"{code} is already called {new_name!r}")
    _check_name(mapping, new_name, day)
    cdops = [c for c in mapping.cdops if c != period]
    if period.valid_from < day:
        cdops.append(replace(period, valid_to=day, row_id=None))
    cdops.append(replace(period, name=new_name, valid_from=max(day, period.valid_from), row_id=None))
    return replace(mapping, cdops=tuple(cdops))


def _check_name(mapping: Mapping, name: str, day: date) -> None:
    if not name or len(name) > 200:
        raise MappingError("the CDOP's name must be 1-200 characters")
    if any(c.name.lower() == name.lower() for c in mapping.in_force(day)):
        raise MappingError(f"a CDOP in force on {day:%d %B %Y} is already called {name!r}")


def check(old: Mapping, new: Mapping, ref: Reference) -> None:
    """Raise ``MappingInvalid`` with every problem of ``new``: unknown codes,
    overlapping or empty periods, footprints of CDOPs not in force, broken
    successor links, and trusts that ``old`` covered on some date but ``new`` leaves without a CDOP."""
    problems: list[str] = []
    codes = new.codes()
    # every code a change brings in obeys the one rule, however the change was made;
    # a code already in force (from before the rule) may still be merged away
    for code in sorted(codes - old.codes()):
        problem = cdop_code_problem(code)
        if problem:
            problems.append(problem)
    for c in new.cdops:
        if c.valid_to is not None and c.valid_to <= c.valid_from:
            problems.append(f"CDOP {c.code}: its period ends ({c.valid_to}) before it starts ({c.valid_from})")
        if c.successor is not None and c.successor not in codes:
            problems.append(f"CDOP {c.code}: its successor {c.successor} is not a known CDOP")
    problems += _overlaps([(c.code, c.valid_from, c.valid_to) for c in new.cdops], "CDOP {0} has overlapping periods")
    for row in new.footprint:
        where = f"{row.trust_code} in {row.cdop_code} from {row.valid_from}"
        if row.trust_code not in ref.trusts:
            problems.append(f"{where}: {row.trust_code} is not a known English trust code")
        if row.cdop_code not in codes:
            problems.append(f"{where}: {row.cdop_code} is not a known CDOP code")
        elif row.valid_to is not None and row.valid_to <= row.valid_from:
            problems.append(f"{where}: the period ends ({row.valid_to}) before it starts")
        elif not _covered(new, row):
            problems.append(f"{where}: {row.cdop_code} is not in force for all of that period")
    problems += _overlaps(
        [(f"{r.trust_code} in {r.cdop_code}", r.valid_from, r.valid_to) for r in new.footprint],
        "{0} has overlapping periods",
    )
    for day in sorted(_checkpoints(old) | _checkpoints(new)):
        before = {r.trust_code for r in old.footprint if r.covers(day)}
        after = {r.trust_code for r in new.footprint if r.covers(day)}
        for trust in sorted(before - after):
            problems.append(f"{trust} ({ref.trusts.get(trust, 'unknown trust')}) would be left without a CDOP on {day}")
    if problems:
        unique = list(dict.fromkeys(problems))
        raise MappingInvalid(unique)


def _checkpoints(mapping: Mapping) -> set[date]:
    days = {r.valid_from for r in mapping.footprint}
    days |= {r.valid_to for r in mapping.footprint if r.valid_to is not None}
    return days


def _covered(mapping: Mapping, row: FootprintPeriod) -> bool:
    """Whether the CDOP's periods (one after another) cover the whole of the row's."""
    reached = row.valid_from
    for period in sorted((c for c in mapping.cdops if c.code == row.cdop_code), key=lambda c: c.valid_from):
        if period.valid_from <= reached and (period.valid_to is None or period.valid_to > reached):
            if period.valid_to is None:
                return True
            reached = period.valid_to
            if row.valid_to is not None and reached >= row.valid_to:
                return True
    return False


def _overlaps(periods: list[tuple[str, date, date | None]], message: str) -> list[str]:
    found = []
    by_key: dict[str, list[tuple[date, date | None]]] = {}
    for key, start, end in periods:
        by_key.setdefault(key, []).append((start, end))
    for key, spans in by_key.items():
        spans.sort()
        for (_s1, e1), (s2, _e2) in itertools.pairwise(spans):
            if e1 is None or e1 > s2:
                found.append(message.format(key))
                break
    return found

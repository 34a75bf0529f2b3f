"""Filters a user applies inside their scope, and the options a scope allows.

Values that come from a browser are untrusted: ``FilterOptions.clean`` keeps
only values offered to this scope and drops everything else, so a forged value
can never name (let alone show) anything outside the user's footprint. The
scope is applied in SQL as well, independently, so filters can only narrow.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import date

from queries import codes

MAX_VALUES = 500  # more values than any real option list; longer lists are cut


@dataclass(frozen=True)
class Filters:
    """An empty tuple means "no restriction" for that dimension."""

    financial_years: tuple[int, ...] = ()
    date_from: date | None = None
    date_to: date | None = None
    trust_codes: tuple[str, ...] = ()
    site_codes: tuple[str, ...] = ()
    places: tuple[str, ...] = ()
    age_groups: tuple[str, ...] = ()
    reviewing_cdops: tuple[str, ...] = ()  # may include codes.UNASSIGNED
    residence_groups: tuple[str, ...] = ()
    review_statuses: tuple[str, ...] = ()
    residence_areas: tuple[str, ...] = ()  # where the children lived: local authority or country codes

    @property
    def key(self) -> str:
        """Canonical text for cache keys."""
        return repr(self)


@dataclass(frozen=True)
class Option:
    value: str
    label: str
    parent: str | None = None  # a site's trust


@dataclass(frozen=True)
class FilterOptions:
    """Everything a scope may choose from; built by ``queries.report.filter_options``."""

    financial_years: tuple[Option, ...]
    trusts: tuple[Option, ...]
    sites: tuple[Option, ...]
    reviewing_cdops: tuple[Option, ...]
    first_date: date | None
    last_date: date | None
    places: tuple[Option, ...] = field(default_factory=lambda: _static(codes.PLACES_IN_HOSPITAL))
    age_groups: tuple[Option, ...] = field(default_factory=lambda: _static(codes.AGE_GROUPS))
    residence_groups: tuple[Option, ...] = field(default_factory=lambda: _static(codes.RESIDENCE_GROUPS))
    review_statuses: tuple[Option, ...] = field(default_factory=lambda: _static(codes.REVIEW_STATUSES))
    # the areas the scope's deaths came from, and only those: a filter can only narrow
    residence_areas: tuple[Option, ...] = ()

    def clean(self, raw: Mapping[str, object]) -> Filters:
        """Build Filters from untrusted input: unknown keys, values and types are dropped."""
        if not isinstance(raw, Mapping):
            return Filters()
        years = {int(o.value): o for o in self.financial_years}
        return Filters(
            financial_years=tuple(
                sorted(y for y in (_as_int(v) for v in _values(raw.get("financial_years"))) if y in years)
            ),
            date_from=self._date(raw.get("date_from")),
            date_to=self._date(raw.get("date_to")),
            trust_codes=_allowed(raw.get("trust_codes"), self.trusts),
            site_codes=_allowed(raw.get("site_codes"), self.sites),
            places=_allowed(raw.get("places"), self.places),
            age_groups=_allowed(raw.get("age_groups"), self.age_groups),
            reviewing_cdops=_allowed(raw.get("reviewing_cdops"), self.reviewing_cdops),
            residence_groups=_allowed(raw.get("residence_groups"), self.residence_groups),
            review_statuses=_allowed(raw.get("review_statuses"), self.review_statuses),
            residence_areas=_allowed(raw.get("residence_areas"), self.residence_areas),
        )

    def _date(self, value: object) -> date | None:
        if not isinstance(value, str) or len(value) != 10:
            return None
        try:
            day = date.fromisoformat(value)
        except ValueError:
            return None
        return day if codes.EARLIEST_DEATH <= day <= date(2100, 1, 1) else None


def _static(labels: Mapping[str, str]) -> tuple[Option, ...]:
    return tuple(Option(value, label) for value, label in labels.items())


def _values(value: object) -> list[object]:
    """A single value or a list of them; anything else is no values."""
    if isinstance(value, (str, int)) and not isinstance(value, bool):
        return [value]
    if isinstance(value, (list, tuple)):
        return list(value[:MAX_VALUES])
    return []


def _as_int(value: object) -> int | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    if isinstance(value, str) and value.isdigit() and len(value) <= 4:
        return int(value)
    return None


def _allowed(value: object, options: Iterable[Option]) -> tuple[str, ...]:
    order = {o.value: i for i, o in enumerate(options)}
    chosen = {v for v in _values(value) if isinstance(v, str) and v in order}
    return tuple(sorted(chosen, key=order.__getitem__))

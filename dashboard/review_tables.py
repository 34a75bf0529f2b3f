"""The Reviews page's tables, one function per table, from a view: what the page
draws and what its CSVs hold are the same frames.

Every table is built by the query layer's scoped functions; England's side of
a comparison holds England-level totals only (``queries.report.comparator``).
A share table published with ``suppress=1`` hides its small counts and every
share and interval that would give one away (``for_publication``).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import date
from typing import TypeVar

import polars as pl

from dashboard.context import View, mapping_in_force, services
from dashboard.urlstate import first
from queries import codes, disclosure, report
from queries.filters import Filters
from queries.intervals import compared_with, share_of
from queries.mapping import Mapping
from queries.report.timeliness import SUMMARY_SHARES, as_at_date
from queries.report.windows import POOLED_SCHEMA

T = TypeVar("T")
HIDDEN = "[c]"  # the CSVs' one mark for a hidden cell (``dashboard.downloads``)
WINDOW_CHOICES = {"1": "1 year", "3": "3 years", "5": "5 years"}
DEFAULT_WINDOW = "3"  # single years are too small for most footprints (the seeds pool 3 and 5)
BY_CHOICES = {"financial_year": "Financial year of death", "reviewing_cdop": "Reviewing CDOP"}
DEFAULT_BY = "financial_year"


@dataclass(frozen=True)
class Window:
    """The pooled window in force: its length, its years and the window before it."""

    length: int
    years: tuple[int, ...]
    previous: tuple[int, ...]
    # the data start after the previous window began: a change against it would mislead
    previous_complete: bool

    @property
    def end(self) -> int:
        return self.years[-1]

    @property
    def label(self) -> str:
        return years_label(self.years)

    @property
    def previous_label(self) -> str:
        return years_label(self.previous)


def years_label(years: tuple[int, ...]) -> str:
    first_year, last_year = codes.financial_year_label(years[0]), codes.financial_year_label(years[-1])
    return first_year if len(years) == 1 else f"{first_year} to {last_year}"


BAND_LABELS = tuple(report.BANDS.values())
SHARE_MEASURES = frozenset(SUMMARY_SHARES)  # the pooled table's rows that have a share

# the page's and About's definitions: what each figure counts, in words
DEFINITIONS = (
    "Timeliness is the time from the date of death to the date the CDOP completed its review. "
    "Within 6 months means on or before the same day of the month six months after the death "
    "(the month's last day when it is shorter); 6 to 12 months, after that but on or before the "
    "day twelve months after; over 12 months, later still.",
    "Open reviews (notified or under review) are aged the same way, from the date of death to the date "
    "the data describe (their as-at date).",
    "Median days: the middle of the days from death to completed review, with the interquartile range "
    "(the middle half of the reviews) in brackets.",
    "Shares come with a 95% confidence interval (Wilson's score interval, which stays sensible for small "
    "counts). A share of fewer than 5 deaths or reviews is not given.",
    "England is every death in a hospital in England under the same filters, except those that name a "
    "trust, a hospital, a reviewing CDOP or a residence group. Only England's totals are shown. "
    "'Higher than England' or 'lower than England' means England's share lies outside this view's 95% "
    "interval; 'similar' means it lies inside.",
    "For recent years, only the quicker reviews are complete yet, so their completed shares look better "
    "than the year will end up: read them beside the open reviews.",
    "Pooled windows are 1, 3 or 5 financial years ending at the latest year chosen in the filters (or the "
    "latest year of data); the change is against the window of the same length before it.",
    "Category of death is recorded by the panel at its review, so it counts completed reviews only.",
)


def window_length(view: View) -> int:
    chosen = first(view.params, "window")
    return int(chosen if chosen in WINDOW_CHOICES else DEFAULT_WINDOW)


def breakdown(view: View) -> str:
    chosen = first(view.params, "by")
    return chosen if chosen in BY_CHOICES else DEFAULT_BY


def window_length_param(view: View) -> str | None:
    """The window for the URL: None (left out) when it is the default."""
    length = str(window_length(view))
    return None if length == DEFAULT_WINDOW else length


def by_param(view: View) -> str | None:
    chosen = breakdown(view)
    return None if chosen == DEFAULT_BY else chosen


def window_of(view: View) -> Window | None:
    """The window ending at the latest financial year chosen in the filters, or the
    latest year of the footprint's data; None when the footprint has no deaths."""
    offered = sorted(int(option.value) for option in view.options.financial_years)
    if not offered:
        return None
    end = max(view.filters.financial_years) if view.filters.financial_years else offered[-1]
    length = window_length(view)
    years, previous = report.window(end, length), report.previous_window(end, length)
    return Window(length, years, previous, previous_complete=previous[0] >= offered[0])


def as_at(view: View) -> date:
    return view.facts.as_at or as_at_date(view.conn)


def completed(view: View) -> pl.DataFrame:
    return report.completed_bands(view.conn, view.scope, view.filters, breakdown(view))


def still_open(view: View) -> pl.DataFrame:
    return report.open_bands(view.conn, view.scope, view.filters, breakdown(view), as_at(view))


def days(view: View) -> pl.DataFrame:
    return report.completion_days(view.conn, view.scope, view.filters, breakdown(view))


def _national(view: View, kind: str, make: Callable[[Mapping, Filters], T]) -> T:
    """England's side of a comparison, kept for every user: England's totals under the filters
    England keeps, on one day, from one store and mapping, are the same whoever asks (the key holds
    all of that, and nobody's scope)."""
    mapping = _mapping(view)
    kept = report.england_filters(view.filters)
    key = ("england", kind, view.facts.version, mapping.version, view.scope.day, as_at(view), kept.key)
    return services().cached(key, lambda: make(mapping, kept))


def england_counts(view: View) -> dict[str, int]:
    """All England's deaths in view and the counts of its shares (``report.england_counts``)."""
    return _national(view, "shares", lambda mapping, kept: report.england_counts(view.conn, view.scope, kept, mapping))


BESIDE = {"higher than England": "higher here", "lower than England": "lower here", "similar": "similar"}


def beside_england(view: View, measure: str, count: int, total: int) -> str:
    """England's share of one of ``report.SHARES`` for a note beside the view's own ("England 18%,
    higher here"): where England lies against the view's 95% interval. Empty for a view of all
    England, or when either share rests on fewer than 5 deaths."""
    if view.scope.england:
        return ""
    national = england_counts(view)
    mine, theirs = share_of(count, total), share_of(national[measure], national["deaths"])
    marker = compared_with(mine, theirs.share)
    if theirs.share is None or marker is None:
        return ""
    return f"England {100 * theirs.share:.0f}%, {BESIDE[marker]}"


def with_england(note: str, view: View, measure: str, count: int, deaths: int) -> str:
    """A headline tile's note with England's share after it (``beside_england``), when there is one."""
    beside = beside_england(view, measure, count, deaths)
    return f"{note}; {beside}" if beside else note


def england(view: View) -> pl.DataFrame:
    """Every share the footprint shows with England's beside: where its hospitals'
    deaths happened and who reviews them, then how fast the reviews were done."""
    mapping = _mapping(view)
    places = report.hospital_shares(view.conn, view.scope, view.filters, mapping, england_counts(view))
    national = _national(
        view, "summary", lambda mapping, kept: report.england_summary(view.conn, view.scope, kept, mapping, as_at(view))
    )
    timeliness = report.comparison(view.conn, view.scope, view.filters, mapping, as_at(view), national)
    of = [DENOMINATORS["deaths"]] * places.height + [
        DENOMINATORS[SUMMARY_SHARES[measure][1]] for measure in timeliness["measure"].to_list()
    ]
    return pl.concat([places, timeliness]).with_columns(pl.Series("of", of, dtype=pl.String))


# what each share of the England table is a share of (its total, in words)
DENOMINATORS = {"deaths": "deaths in view", "completed": "completed reviews", "open": "open reviews"}


def windows(view: View) -> pl.DataFrame:
    window = window_of(view)
    if window is None:
        return pl.DataFrame(schema=POOLED_SCHEMA)
    return report.pooled(view.conn, view.scope, view.filters, window.end, window.length, as_at(view))


def categories(view: View) -> pl.DataFrame:
    return _in_window(view, "category_of_death")


def expected(view: View) -> pl.DataFrame:
    return _in_window(view, "expected_death")


def _in_window(view: View, name: str) -> pl.DataFrame:
    """One of ``report.DISTRIBUTIONS`` for the window, with England's (kept) beside."""
    window = window_of(view)
    filters = view.filters if window is None else report.in_window(view.filters, window.end, window.length)
    windowed = replace(view, filters=filters)
    national = _national(
        windowed,
        name,
        lambda mapping, kept: report.england_distribution(view.conn, view.scope, kept, name, mapping),
    )
    return report.distribution(view.conn, view.scope, filters, name, _mapping(view), national)


def _mapping(view: View) -> Mapping:
    return mapping_in_force(view.conn)  # the version this request read, as its scope was built


# the CSVs of the page, by download name
TABLES: dict[str, Callable[[View], pl.DataFrame]] = {
    "review-timeliness": completed,
    "review-open": still_open,
    "review-days": days,
    "review-england": england,
    "review-windows": windows,
    "review-categories": categories,
    "review-expected": expected,
}


@dataclass(frozen=True)
class ShareColumns:
    """How a share table's cells hang together: each ``count`` is a part of its
    row's ``total``; rows with the same ``group`` share one total and, when
    ``partition``, their counts add up to it. ``shares`` give the count away."""

    count: str
    total: str
    group: str | None
    partition: bool
    shares: tuple[str, ...]


BANDED = ShareColumns("reviews", "total", "group", True, ("share", "low", "high"))
LOCAL = ShareColumns("count", "total", "of", False, ("share", "low", "high", "marker"))
NATIONAL = ShareColumns("england_count", "england_total", "of", False, ("england_share",))
PUBLISHED: dict[str, tuple[ShareColumns, ...]] = {
    "review-timeliness": (BANDED,),
    "review-open": (BANDED,),
    "review-days": (),  # counts of reviews beside quartiles: the reviews column is its own table
    "review-england": (LOCAL, NATIONAL),
    "review-windows": (),
    "review-categories": (
        ShareColumns("count", "total", None, True, ("share", "low", "high", "marker")),
        ShareColumns("england_count", "england_total", None, True, ("england_share",)),
    ),
    "review-expected": (
        ShareColumns("count", "total", None, True, ("share", "low", "high", "marker")),
        ShareColumns("england_count", "england_total", None, True, ("england_share",)),
    ),
}


def for_publication(name: str, frame: pl.DataFrame) -> pl.DataFrame:
    """``frame`` with every count of 1-4 hidden, the counts and totals that would
    let one be worked out (``queries.disclosure``), and every share, interval
    and marker computed from a hidden count or total."""
    if name == "review-days":
        return _publish_columns(
            frame, {"reviews": _primary(frame["reviews"].to_list())}, ("median_days", "q1_days", "q3_days")
        )
    if name == "review-windows":
        hidden = {column: _primary(frame[column].to_list()) for column in ("current", "previous")}
        # the change gives either count away from the other, and a share its count
        either = {row for rows in hidden.values() for row in rows}
        hidden["change"] = either
        hidden["current_share"] = hidden["current"]
        hidden["previous_share"] = hidden["previous"]
        return _publish_columns(frame, hidden, ())
    hidden_rows: dict[str, set[int]] = {}
    for columns in PUBLISHED[name]:
        counts, totals = _hidden_counts_and_totals(frame, columns)
        hidden_rows[columns.count] = counts
        hidden_rows[columns.total] = totals
        for share in columns.shares:
            hidden_rows[share] = counts | totals
    return _publish_columns(frame, hidden_rows, ())


def _primary(values: list[int | None]) -> set[int]:
    return {row for row, value in enumerate(values) if value is not None and 0 < value < disclosure.THRESHOLD}


def _hidden_counts_and_totals(frame: pl.DataFrame, columns: ShareColumns) -> tuple[set[int], set[int]]:
    """Rows whose count, and rows whose total, must be hidden."""
    counts = frame[columns.count].to_list()
    totals = frame[columns.total].to_list()
    groups = frame[columns.group].to_list() if columns.group else ["all"] * frame.height
    cells: dict[tuple[str, object], int] = {}
    members: dict[object, list[tuple[str, object]]] = {}
    for row, (count, total, group) in enumerate(zip(counts, totals, groups, strict=True)):
        cells[("count", row)] = int(count)
        cells[("total", group)] = int(total)
        members.setdefault(group, []).append(("count", row))
    relations = (
        [disclosure.Relation(("total", group), tuple(parts)) for group, parts in members.items()]
        if columns.partition
        else []
    )
    hidden = disclosure.suppress(cells, relations)
    hidden_groups = {key[1] for key in hidden if key[0] == "total"}
    count_rows = {key[1] for key in hidden if key[0] == "count"}
    total_rows = {row for row, group in enumerate(groups) if group in hidden_groups}
    return count_rows, total_rows  # type: ignore[return-value]


def _publish_columns(frame: pl.DataFrame, hidden: dict[str, set[int]], whole: tuple[str, ...]) -> pl.DataFrame:
    """Cells of ``hidden`` (column -> rows) shown as the hidden mark; ``whole`` columns
    are hidden in the rows hidden anywhere (they were computed from those counts)."""
    anywhere = {row for rows in hidden.values() for row in rows}
    hidden = {**hidden, **{column: anywhere for column in whole}}
    return frame.with_columns(
        pl.Series(
            column,
            [
                HIDDEN if row in rows else ("" if value is None else str(value))
                for row, value in enumerate(frame[column].to_list())
            ],
            dtype=pl.String,
        )
        for column, rows in hidden.items()
        if column in frame.columns
    )

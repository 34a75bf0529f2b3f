"""Time grains: deaths by month, financial quarter or financial year, with
every period in view shown (quiet ones as 0) and labelled."""

from __future__ import annotations

from datetime import date, timedelta

import duckdb
import polars as pl

from queries import codes
from queries.filters import Filters
from queries.report.counts import counts
from queries.report.dimensions import DIMENSIONS, TIME_GRAINS
from queries.scope import Scope


def by_period(
    conn: duckdb.DuckDBPyConnection, scope: Scope, filters: Filters, grain: str, split: str | None = None
) -> pl.DataFrame:
    """Deaths by month, financial quarter or financial year (optionally split by
    another dimension), with a ``period`` label and empty periods filled with 0."""
    if grain not in TIME_GRAINS:
        raise ValueError(f"grain must be one of {TIME_GRAINS}")
    if split is not None and (split not in DIMENSIONS or split in TIME_GRAINS):
        raise ValueError(f"cannot split a trend by {split!r}")
    return periods(counts(conn, scope, filters, [grain] if split is None else [grain, split]), filters, grain)


def periods(frame: pl.DataFrame, filters: Filters, grain: str) -> pl.DataFrame:
    """A counts frame by ``grain`` (and perhaps one other dimension) with every
    period in view, quiet ones as 0, and a ``period`` label."""
    time_keys = DIMENSIONS[grain].keys
    others = [c for c in frame.columns if c not in (*time_keys, "deaths")]
    columns = {c: frame[c].to_list() for c in frame.columns}
    first, last = _span(columns, grain, frame.height)
    if filters.financial_years:
        first = date(min(filters.financial_years), 4, 1)
        last = date(max(filters.financial_years) + 1, 3, 31)
    first = max((d for d in (first, filters.date_from) if d is not None), default=None)
    last = min((d for d in (last, filters.date_to) if d is not None), default=None)
    calendar = _calendar(first, last, grain)  # [(time key values, label)]
    splits = list(dict.fromkeys(zip(*(columns[c] for c in others), strict=True))) if others else [()]
    found = {
        (*key[: len(time_keys)], *key[len(time_keys) :]): deaths
        for *key, deaths in zip(*(columns[c] for c in (*time_keys, *others)), columns["deaths"], strict=True)
    }
    rows = [(*t, label, *split, found.get((*t, *split), 0)) for t, label in calendar for split in splits]
    names = [*time_keys, "period", *others, "deaths"]
    schema = {
        **{k: frame.schema[k] for k in time_keys},
        "period": pl.String,
        **{c: frame.schema[c] for c in others},
        "deaths": frame.schema["deaths"],
    }
    columns_out = list(zip(*rows, strict=True)) if rows else [[] for _ in names]
    return pl.DataFrame(dict(zip(names, map(list, columns_out), strict=True)), schema=schema)


def _span(columns: dict[str, list], grain: str, height: int) -> tuple[date | None, date | None]:
    """The first and last day of the periods that have deaths."""
    if height == 0:
        return None, None
    if grain == "month":
        return min(columns["month"]), _month_end(max(columns["month"]))
    if grain == "financial_year":
        return date(min(columns["financial_year"]), 4, 1), date(max(columns["financial_year"]) + 1, 3, 31)
    quarters = sorted(set(zip(columns["financial_year"], columns["fy_quarter"], strict=True)))
    (fy0, q0), (fy1, q1) = quarters[0], quarters[-1]
    return _quarter_start(fy0, q0), _month_end(_quarter_start(fy1, q1), months=2)


def _quarter_start(financial_year: int, quarter: int) -> date:
    month = 4 + 3 * (quarter - 1)
    return date(financial_year + (month - 1) // 12, (month - 1) % 12 + 1, 1)


def _month_end(day: date, months: int = 0) -> date:
    index = day.year * 12 + day.month - 1 + months + 1
    return date(index // 12, index % 12 + 1, 1) - timedelta(days=1)


def _calendar(first: date | None, last: date | None, grain: str) -> list[tuple[tuple[object, ...], str]]:
    """Every period from ``first`` to ``last``: (its key values, its label)."""
    if first is None or last is None or first > last:
        return []
    out: list[tuple[tuple[object, ...], str]] = []
    year, month = first.year, first.month
    while (year, month) <= (last.year, last.month):
        start = date(year, month, 1)
        fy = year if month >= 4 else year - 1
        quarter = (month + 8) % 12 // 3 + 1
        if grain == "month":
            out.append(((start,), f"{start:%b %Y}"))
        elif grain == "quarter":
            entry = ((fy, quarter), f"{codes.financial_year_label(fy)} Q{quarter}")
            if not out or out[-1] != entry:
                out.append(entry)
        elif not out or out[-1][0] != (fy,):
            out.append(((fy,), codes.financial_year_label(fy)))
        year, month = (year + 1, 1) if month == 12 else (year, month + 1)
    return out

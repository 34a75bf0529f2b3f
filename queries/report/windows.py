"""Pooled financial years: single years are too small for most footprints,
so annual reports pool 3 or 5 years and show the change against the window
before ("↑10"). A window is 1, 3 or 5 financial years ending at a chosen one.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import date

import duckdb
import polars as pl

from queries.filters import Filters
from queries.intervals import share_of
from queries.report.timeliness import SUMMARY_LABELS, SUMMARY_SHARES, summary
from queries.scope import Scope

WINDOW_LENGTHS = (1, 3, 5)


def window(end_year: int, length: int) -> tuple[int, ...]:
    """The financial years (by start year) of the window of ``length`` ending at ``end_year``."""
    if length not in WINDOW_LENGTHS:
        raise ValueError(f"a window is one of {WINDOW_LENGTHS} financial years")
    return tuple(range(end_year - length + 1, end_year + 1))


def previous_window(end_year: int, length: int) -> tuple[int, ...]:
    """The window of the same length just before it."""
    return window(end_year - length, length)


def in_window(filters: Filters, end_year: int, length: int) -> Filters:
    """``filters`` for a window: the window takes the place of any financial-year filter."""
    return replace(filters, financial_years=window(end_year, length))


def pooled(
    conn: duckdb.DuckDBPyConnection,
    scope: Scope,
    filters: Filters,
    end_year: int,
    length: int,
    as_at: date | None = None,
) -> pl.DataFrame:
    """Each summary count for the window and the previous one, and the change;
    for each share, the share of each window (None under the small-number
    rule). The window takes the place of any financial-year filter; the
    other filters apply to both windows alike."""
    now = summary(conn, scope, in_window(filters, end_year, length), as_at)
    before = summary(conn, scope, in_window(filters, end_year - length, length), as_at)
    rows = []
    for measure, value in now.items():
        denominator = SUMMARY_SHARES[measure][1] if measure in SUMMARY_SHARES else None
        share_now = share_of(value, now[denominator]).share if denominator else None
        share_before = share_of(before[measure], before[denominator]).share if denominator else None
        rows.append(
            (measure, SUMMARY_LABELS[measure], value, before[measure], value - before[measure], share_now, share_before)
        )
    return pl.DataFrame(rows, schema=POOLED_SCHEMA, orient="row")


POOLED_SCHEMA = {
    "measure": pl.String,
    "label": pl.String,
    "current": pl.Int64,
    "previous": pl.Int64,
    "change": pl.Int64,
    "current_share": pl.Float64,
    "previous_share": pl.Float64,
}

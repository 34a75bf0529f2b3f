"""How fast reviews are done: completed reviews by time from death to
completion, open reviews by age, in the same three bands.

Month arithmetic, the one rule (DuckDB's ``date + INTERVAL n MONTH``): the day
n calendar months after a death is the same day of the month n months on, or
that month's last day when it is shorter (31 August + 6 months = 28 or 29
February). A review is *within 6 months* when it was completed on or before
that day for n = 6; *6 to 12 months* when after it but on or before the day
for n = 12; *over 12 months* otherwise. An open review (notified or under
review) is aged the same way from the date of death to the data's as-at date.
Days from death to completion are the difference of the two dates (completed
the day of death = 0 days); their median and quartiles interpolate linearly
between ranks (DuckDB's ``quantile_cont``, Python's
``statistics.quantiles(method="inclusive")``).

Read completed reviews by year of death beside the open ones: for recent
years only the quick reviews are done yet, so their completed shares look
better than the year will end up (the slow ones are still open).
"""

from __future__ import annotations

from datetime import date

import duckdb
import polars as pl

from queries import codes
from queries.filters import Filters
from queries.intervals import share_of
from queries.report.sql import _query
from queries.schema import get_meta
from queries.scope import Scope

BANDS: dict[str, str] = {
    "within_6m": "Within 6 months",
    "6_to_12m": "6 to 12 months",
    "over_12m": "Over 12 months",
}
OPEN_STATUSES = ("notified", "under_review")

# What a table may be broken down by: (code column, label column); None for one row for the whole view.
GROUPINGS: dict[str, tuple[str, str]] = {
    # labelled "2024/25" in SQL: the same text as codes.financial_year_label
    "financial_year": (
        "CAST(financial_year AS VARCHAR)",
        "financial_year::VARCHAR || '/' || lpad(((financial_year + 1) % 100)::VARCHAR, 2, '0')",
    ),
    "reviewing_cdop": (
        f"coalesce(reviewing_cdop_code, '{codes.UNASSIGNED}')",
        "coalesce(reviewing_cdop_name, reviewing_cdop_code, 'Not yet assigned')",
    ),
}
ALL = "all"


def band_sql(end: str) -> str:
    """The band of the time from ``date_of_death`` to the date ``end`` (SQL)."""
    return f"""CASE WHEN {end} <= date_of_death + INTERVAL 6 MONTH THEN 'within_6m'
                    WHEN {end} <= date_of_death + INTERVAL 12 MONTH THEN '6_to_12m'
                    ELSE 'over_12m' END"""


def as_at_date(conn: duckdb.DuckDBPyConnection) -> date:
    """The day the data describe (set by each load): open reviews are aged to it."""
    value = get_meta(conn, "data_as_at")
    if value is None:
        raise LookupError("the deaths store has no as-at date; load an extract first")
    return date.fromisoformat(value)


def completed_bands(
    conn: duckdb.DuckDBPyConnection, scope: Scope, filters: Filters, by: str | None = None
) -> pl.DataFrame:
    """Completed reviews in view by time from death to completion: one row per
    group and band, with the count, the group's total and the share with its
    Wilson 95% interval (None under ``intervals.MIN_DENOMINATOR``)."""
    where = "review_status = 'completed'"
    return _banded(conn, scope, filters, by, band_sql("review_completed_date"), where, {})


def open_bands(
    conn: duckdb.DuckDBPyConnection,
    scope: Scope,
    filters: Filters,
    by: str | None = None,
    as_at: date | None = None,
) -> pl.DataFrame:
    """Open reviews (notified or under review) in view by their age at the
    as-at date (the store's unless given), in the same bands and shape."""
    day = as_at or as_at_date(conn)
    where = "list_contains($open_statuses::VARCHAR[], review_status)"
    extra = {"as_at": day, "open_statuses": list(OPEN_STATUSES)}
    return _banded(conn, scope, filters, by, band_sql("$as_at::DATE"), where, extra)


def completion_days(
    conn: duckdb.DuckDBPyConnection, scope: Scope, filters: Filters, by: str | None = None
) -> pl.DataFrame:
    """Days from death to completed review: per group, the number of reviews,
    the median and the interquartile range (first and third quartiles)."""
    code, label = _grouping(by)
    frame = _query(
        conn,
        scope,
        filters,
        f"""
        SELECT {code} AS "group", {label} AS label, count(*) AS reviews,
               quantile_cont(review_completed_date - date_of_death, [0.25, 0.5, 0.75]) AS q
        FROM f WHERE review_status = 'completed'
        GROUP BY ALL ORDER BY 1
        """,
    )
    quartiles = frame["q"].to_list()
    return frame.select("group", "label", "reviews").with_columns(
        pl.Series("median_days", [q[1] for q in quartiles], dtype=pl.Float64),
        pl.Series("q1_days", [q[0] for q in quartiles], dtype=pl.Float64),
        pl.Series("q3_days", [q[2] for q in quartiles], dtype=pl.Float64),
    )


def _grouping(by: str | None) -> tuple[str, str]:
    if by is None:
        return f"'{ALL}'", "'All'"
    if by not in GROUPINGS:
        raise ValueError(f"by must be one of {sorted(GROUPINGS)} or None")
    return GROUPINGS[by]


def _banded(
    conn: duckdb.DuckDBPyConnection,
    scope: Scope,
    filters: Filters,
    by: str | None,
    band: str,
    where: str,
    extra: dict[str, object],
) -> pl.DataFrame:
    code, label = _grouping(by)
    counted = _query(
        conn,
        scope,
        filters,
        f"""
        SELECT {code} AS "group", {label} AS label, {band} AS band, count(*) AS reviews
        FROM f WHERE {where}
        GROUP BY ALL
        """,
        extra,
    )
    found = {(g, b): n for g, b, n in counted.select("group", "band", "reviews").iter_rows()}
    labels = dict(counted.select("group", "label").iter_rows())
    rows = []
    for group in sorted(labels):
        total = sum(found.get((group, b), 0) for b in BANDS)
        for band_code, band_label in BANDS.items():
            share = share_of(found.get((group, band_code), 0), total)
            rows.append(
                (group, labels[group], band_code, band_label, share.count, total, share.share, share.low, share.high)
            )
    return pl.DataFrame(rows, schema=BANDED_SCHEMA, orient="row")


BANDED_SCHEMA = {
    "group": pl.String,
    "label": pl.String,
    "band": pl.String,
    "band_label": pl.String,
    "reviews": pl.Int64,
    "total": pl.Int64,
    "share": pl.Float64,
    "low": pl.Float64,
    "high": pl.Float64,
}


# The measures a summary counts, and the denominator each share is of.
SUMMARY_SHARES: dict[str, tuple[str, str]] = {
    "within_6m": ("Completed within 6 months", "completed"),
    "within_12m": ("Completed within 12 months", "completed"),
    "open_over_12m": ("Open more than 12 months after the death", "open"),
}


# Every total ``summary`` returns, labelled (the shares' numerators among them).
SUMMARY_LABELS: dict[str, str] = {
    "deaths": "Deaths",
    "completed": "Reviews completed",
    "within_6m": "Completed within 6 months",
    "within_12m": "Completed within 12 months",
    "open": "Reviews open (notified or under review)",
    "open_over_12m": "Open more than 12 months after the death",
}


def summary(
    conn: duckdb.DuckDBPyConnection, scope: Scope, filters: Filters, as_at: date | None = None
) -> dict[str, int]:
    """One set of totals for the view: deaths, completed and open reviews,
    completed within 6 and within 12 months, open reviews over 12 months old."""
    frame = _query(
        conn,
        scope,
        filters,
        f"""
        SELECT count(*) AS deaths,
               count(*) FILTER (WHERE review_status = 'completed') AS completed,
               count(*) FILTER (WHERE review_status = 'completed'
                                AND ({band_sql("review_completed_date")}) = 'within_6m') AS within_6m,
               count(*) FILTER (WHERE review_status = 'completed'
                                AND ({band_sql("review_completed_date")}) <> 'over_12m') AS within_12m,
               count(*) FILTER (WHERE list_contains($open_statuses::VARCHAR[], review_status)) AS open,
               count(*) FILTER (WHERE list_contains($open_statuses::VARCHAR[], review_status)
                                AND ({band_sql("$as_at::DATE")}) = 'over_12m') AS open_over_12m
        FROM f
        """,
        {"as_at": as_at or as_at_date(conn), "open_statuses": list(OPEN_STATUSES)},
    )
    return {name: int(value) for name, value in frame.row(0, named=True).items()}

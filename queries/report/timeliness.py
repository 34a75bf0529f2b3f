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
``statistics.quantiles(method="inclusive")``). The rule is written once
(``queries.schema.review_band_sql``) and applied when the facts are built: each
review's band and days are columns of ``report_facts``.

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
from queries.schema import get_meta, review_band_sql
from queries.scope import Scope

BANDS: dict[str, str] = {
    "within_6m": "Within 6 months",
    "6_to_12m": "6 to 12 months",
    "over_12m": "Over 12 months",
}

# What a table may be broken down by: (the columns counted by, the code and the label worked out
# from them); None for one row for the whole view. Rows are counted by the plain columns first and
# labelled after, as a label per row (text built for each of millions of rows) costs far more.
GROUPINGS: dict[str, tuple[tuple[str, ...], str, str]] = {
    # labelled "2024/25" in SQL: the same text as codes.financial_year_label
    "financial_year": (
        ("financial_year",),
        "CAST(financial_year AS VARCHAR)",
        "financial_year::VARCHAR || '/' || lpad(((financial_year + 1) % 100)::VARCHAR, 2, '0')",
    ),
    "reviewing_cdop": (
        ("reviewing_cdop_code", "reviewing_cdop_name"),
        f"coalesce(reviewing_cdop_code, '{codes.UNASSIGNED}')",
        "coalesce(reviewing_cdop_name, reviewing_cdop_code, 'Not yet assigned')",
    ),
}
ALL = "all"


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
    return _banded(conn, scope, filters, by, "completion_band", "completion_band IS NOT NULL", {})


def open_bands(
    conn: duckdb.DuckDBPyConnection,
    scope: Scope,
    filters: Filters,
    by: str | None = None,
    as_at: date | None = None,
) -> pl.DataFrame:
    """Open reviews (notified or under review) in view by their age at the
    as-at date (the store's unless given), in the same bands and shape."""
    band, extra = _open_band(conn, as_at)
    return _banded(conn, scope, filters, by, band, f"{OPEN} IS NOT NULL", extra)


OPEN = "open_band"  # set for open reviews only (``queries.schema``)


def _open_band(conn: duckdb.DuckDBPyConnection, as_at: date | None) -> tuple[str, dict[str, object]]:
    """The SQL of an open review's band at ``as_at``, and its parameters: the band worked
    out at load (``open_band``) for the store's own as-at date, else worked out here."""
    if as_at is None or as_at == as_at_date(conn):
        return OPEN, {}
    return f"CASE WHEN {OPEN} IS NOT NULL THEN {review_band_sql('$as_at::DATE')} END", {"as_at": as_at}


def completion_days(
    conn: duckdb.DuckDBPyConnection, scope: Scope, filters: Filters, by: str | None = None
) -> pl.DataFrame:
    """Days from death to completed review: per group, the number of reviews,
    the median and the interquartile range (first and third quartiles)."""
    frame = _by_group(
        conn,
        scope,
        filters,
        by,
        {"reviews": "count(*)", "q": "quantile_cont(completion_days, [0.25, 0.5, 0.75])"},
        "completion_days IS NOT NULL",
        {},
    )
    quartiles = frame["q"].to_list()
    return frame.select("group", "label", "reviews").with_columns(
        pl.Series("median_days", [q[1] for q in quartiles], dtype=pl.Float64),
        pl.Series("q1_days", [q[0] for q in quartiles], dtype=pl.Float64),
        pl.Series("q3_days", [q[2] for q in quartiles], dtype=pl.Float64),
    )


def _by_group(
    conn: duckdb.DuckDBPyConnection,
    scope: Scope,
    filters: Filters,
    by: str | None,
    columns: dict[str, str],
    where: str,
    extra: dict[str, object],
) -> pl.DataFrame:
    """``columns`` (name: an aggregate, or a plain expression to count by as well) over ``f``'s
    rows meeting ``where``, per group of ``by``, with each group's code and label, in order of the
    group's code. Counted by the plain columns first, labelled after."""
    if by is None:
        keys, code, label = (), f"'{ALL}'", "'All'"
    elif by in GROUPINGS:
        keys, code, label = GROUPINGS[by]
    else:
        raise ValueError(f"by must be one of {sorted(GROUPINGS)} or None")
    inner = ", ".join([*keys, *(f'{expression} AS "{name}"' for name, expression in columns.items())])
    outer = ", ".join(f'"{name}"' for name in columns)
    return _query(
        conn,
        scope,
        filters,
        f"""
        SELECT {code} AS "group", {label} AS label, {outer}
        FROM (SELECT {inner} FROM f WHERE {where} GROUP BY ALL)
        ORDER BY 1
        """,
        extra,
    )


def _banded(
    conn: duckdb.DuckDBPyConnection,
    scope: Scope,
    filters: Filters,
    by: str | None,
    band: str,
    where: str,
    extra: dict[str, object],
) -> pl.DataFrame:
    counted = _by_group(conn, scope, filters, by, {"band": band, "reviews": "count(*)"}, where, extra)
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
    band, extra = _open_band(conn, as_at)
    frame = _query(
        conn,
        scope,
        filters,
        f"""
        SELECT count(*) AS deaths,
               count(completion_band) AS completed,
               count(*) FILTER (WHERE completion_band = 'within_6m') AS within_6m,
               count(*) FILTER (WHERE completion_band IN ('within_6m', '6_to_12m')) AS within_12m,
               count({OPEN}) AS open,
               count(*) FILTER (WHERE ({band}) = 'over_12m') AS open_over_12m
        FROM f
        """,
        extra,
    )
    return {name: int(value) for name, value in frame.row(0, named=True).items()}

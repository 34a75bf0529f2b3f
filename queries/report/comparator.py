"""England beside a footprint: the same shares for all England, under the
same filters less those that name a trust, hospital or CDOP.

Only England-level totals leave this module: a CDOP user may see how
England as a whole compares, never another footprint's, trust's or CDOP's
figures, so nothing here groups England's rows by anything.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import date

import duckdb
import polars as pl

from queries.filters import Filters
from queries.intervals import compared_with, share_of
from queries.mapping import Mapping
from queries.report.timeliness import SUMMARY_SHARES, summary
from queries.scope import Scope, england_scope


def england_filters(filters: Filters) -> Filters:
    """``filters`` for the England comparator: those naming a trust, a hospital
    or a reviewing CDOP are dropped (they mean nothing, or one place, for
    England), and so is the residence group, which is relative to the viewer's
    own footprint ("resident of this footprint" would become "of England").
    Areas of residence are dropped too: England's deaths of children from one
    area are that area's own footprint's figures, not England's. Years, dates,
    places in hospital, age groups and review statuses keep their meaning for
    England and stay."""
    return replace(filters, trust_codes=(), site_codes=(), reviewing_cdops=(), residence_groups=(), residence_areas=())


def is_england(scope: Scope, filters: Filters) -> bool:
    """The view is England's own side of a comparison (all England, no filter England drops):
    its figures are England's, so a comparison need count them only once."""
    return scope.england and england_filters(filters) == filters


def england_summary(
    conn: duckdb.DuckDBPyConnection,
    scope: Scope,
    filters: Filters,
    mapping: Mapping | None = None,
    as_at: date | None = None,
) -> dict[str, int]:
    """The timeliness totals for all England under ``england_filters(filters)``,
    on the day of the user's ``scope`` (whose own trusts play no part)."""
    return summary(conn, england_for(conn, scope, mapping), england_filters(filters), as_at)


def england_for(conn: duckdb.DuckDBPyConnection, scope: Scope, mapping: Mapping | None = None) -> Scope:
    """All England on the day of the user's ``scope``: only ever counted whole
    here, so a CDOP user's comparator reads it without seeing its parts."""
    return scope if scope.england else england_scope(conn, scope.day, mapping)


def compared_row(
    measure: str, label: str, count: int, total: int, england_count: int, england_total: int
) -> tuple[object, ...]:
    """One row of ``COMPARISON_SCHEMA``: the local share with its interval,
    England's share beside it, and where England lies."""
    mine, theirs = share_of(count, total), share_of(england_count, england_total)
    return (
        measure,
        label,
        mine.count,
        mine.total,
        mine.share,
        mine.low,
        mine.high,
        theirs.count,
        theirs.total,
        theirs.share,
        compared_with(mine, theirs.share),
    )


def comparison(
    conn: duckdb.DuckDBPyConnection,
    scope: Scope,
    filters: Filters,
    mapping: Mapping | None = None,
    as_at: date | None = None,
    national: dict[str, int] | None = None,
) -> pl.DataFrame:
    """One row per share of ``SUMMARY_SHARES``: the scope's count, total, share
    and Wilson 95% interval; England's count, total and share (``england_summary``,
    computed here unless given); and where England lies against the scope's
    interval (``intervals.compared_with``)."""
    england = national or england_summary(conn, scope, filters, mapping, as_at)
    local = england if is_england(scope, filters) else summary(conn, scope, filters, as_at)
    rows = [
        compared_row(measure, label, local[measure], local[denominator], england[measure], england[denominator])
        for measure, (label, denominator) in SUMMARY_SHARES.items()
    ]
    return pl.DataFrame(rows, schema=COMPARISON_SCHEMA, orient="row")


COMPARISON_SCHEMA = {
    "measure": pl.String,
    "label": pl.String,
    "count": pl.Int64,
    "total": pl.Int64,
    "share": pl.Float64,
    "low": pl.Float64,
    "high": pl.Float64,
    "england_count": pl.Int64,
    "england_total": pl.Int64,
    "england_share": pl.Float64,
    "marker": pl.String,
}

"""What the deaths were: the ten national categories of death (set at panel,
so completed reviews only) and expected against unexpected deaths, each with
England's share beside the local one (England totals only, as in
``comparator``). Pool years with ``windows.in_window``: single years are small.
"""

from __future__ import annotations

from collections.abc import Mapping as Labels

import duckdb
import polars as pl

from queries import codes
from queries.filters import Filters
from queries.mapping import Mapping
from queries.report.comparator import COMPARISON_SCHEMA, compared_row, england_filters, england_for, is_england
from queries.report.sql import _query
from queries.scope import Scope

# (column, rows counted, its codes and labels): a fixed list, so no caller's text reaches SQL
DISTRIBUTIONS: dict[str, tuple[str, str, Labels[object, str]]] = {
    "category_of_death": ("category_of_death", "review_status = 'completed'", codes.CATEGORIES_OF_DEATH),
    "expected_death": ("expected_death", "true", codes.EXPECTED_DEATH),
}


def categories_of_death(
    conn: duckdb.DuckDBPyConnection,
    scope: Scope,
    filters: Filters,
    mapping: Mapping | None = None,
    national: dict[object, int] | None = None,
) -> pl.DataFrame:
    """Completed reviews by category of death (1-10, every category shown):
    the local count of the completed reviews in view, its share and interval,
    and England's beside it (``COMPARISON_SCHEMA``, the category as ``measure``)."""
    return distribution(conn, scope, filters, "category_of_death", mapping, national)


def expected_deaths(
    conn: duckdb.DuckDBPyConnection,
    scope: Scope,
    filters: Filters,
    mapping: Mapping | None = None,
    national: dict[object, int] | None = None,
) -> pl.DataFrame:
    """Deaths in view that were expected, unexpected or not known, with England beside."""
    return distribution(conn, scope, filters, "expected_death", mapping, national)


def england_distribution(
    conn: duckdb.DuckDBPyConnection, scope: Scope, filters: Filters, name: str, mapping: Mapping | None = None
) -> dict[object, int]:
    """All England's counts of one of ``DISTRIBUTIONS`` under ``england_filters(filters)``, on the
    day of ``scope``: the same for every user, so a caller may keep it for all of them."""
    column, counted, _ = DISTRIBUTIONS[name]
    return _counts(conn, england_for(conn, scope, mapping), england_filters(filters), column, counted)


def distribution(
    conn: duckdb.DuckDBPyConnection,
    scope: Scope,
    filters: Filters,
    name: str,
    mapping: Mapping | None = None,
    national: dict[object, int] | None = None,
) -> pl.DataFrame:
    column, counted, labels = DISTRIBUTIONS[name]
    england = national if national is not None else england_distribution(conn, scope, filters, name, mapping)
    local = england if is_england(scope, filters) else _counts(conn, scope, filters, column, counted)
    total, england_total = sum(local.values()), sum(england.values())
    rows = [
        compared_row(str(code), label, local.get(code, 0), total, england.get(code, 0), england_total)
        for code, label in labels.items()
    ]
    return pl.DataFrame(rows, schema=COMPARISON_SCHEMA, orient="row")


def _counts(
    conn: duckdb.DuckDBPyConnection, scope: Scope, filters: Filters, column: str, counted: str
) -> dict[object, int]:
    frame = _query(conn, scope, filters, f"SELECT {column} AS code, count(*) AS n FROM f WHERE {counted} GROUP BY 1")
    return {code: int(n) for code, n in frame.iter_rows()}

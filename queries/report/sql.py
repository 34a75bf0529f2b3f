"""Scoped SQL: the conditions every read of ``report_facts`` runs under, and
the fetch that turns a statement into a polars frame.

``_row_filter`` always restricts rows to the scope's trusts with bound
parameters; the residence and review groups are worked out relative to the
scope. This is the one place those conditions are built.
"""

from __future__ import annotations

from collections.abc import Sequence

import duckdb
import polars as pl

from queries import codes
from queries.filters import Filters
from queries.scope import Scope


def _row_filter(scope: Scope, filters: Filters) -> tuple[list[str], dict[str, object]]:
    """Conditions on ``report_facts AS r`` for the scope and filters (all but
    residence, which depends on the scope's own areas), and their parameters."""
    params: dict[str, object] = {}
    where = ["true"]
    if not scope.every_trust_in_store:
        params["scope_trusts"] = list(scope.trust_codes)
        where.append(_member("r.trust_code", "scope_trusts", scope.trust_codes))

    def any_of(column: str, name: str, values: Sequence[object], sql_type: str = "VARCHAR") -> None:
        if values:
            params[name] = list(values)
            where.append(_member(column, name, values, sql_type))

    any_of("r.financial_year", "f_years", filters.financial_years, "INTEGER")
    any_of("r.trust_code", "f_trusts", filters.trust_codes)
    any_of("r.site_code", "f_sites", filters.site_codes)
    any_of("r.place_in_hospital", "f_places", filters.places)
    any_of("r.age_group", "f_ages", filters.age_groups)
    any_of("r.review_status", "f_statuses", filters.review_statuses)
    any_of("r.residence_la_code", "f_areas", filters.residence_areas)
    if filters.date_from:
        params["f_from"] = filters.date_from
        where.append("r.date_of_death >= $f_from")
    if filters.date_to:
        params["f_to"] = filters.date_to
        where.append("r.date_of_death <= $f_to")
    if filters.reviewing_cdops:
        named = [c for c in filters.reviewing_cdops if c != codes.UNASSIGNED]
        params["f_reviewers"] = named
        unassigned = " OR r.reviewing_cdop_code IS NULL" if codes.UNASSIGNED in filters.reviewing_cdops else ""
        where.append(f"({_member('r.reviewing_cdop_code', 'f_reviewers', named)}{unassigned})")
    return where, params


def _residence_group(scope: Scope, prefix: str, params: dict[str, object]) -> str:
    """Where the child lived, relative to the scope: a CASE over the columns
    ``residence_la_code`` and ``residence_class`` (england, uk_other, outside_uk
    or not_known, worked out at load) of the rows or groups ``prefix`` names."""
    if scope.england:  # all England: every English local authority is "this footprint"
        return f"CASE WHEN {prefix}residence_class = 'england' THEN 'footprint' ELSE {prefix}residence_class END"
    params["scope_las"] = list(scope.la_codes)
    resident = _member(f"{prefix}residence_la_code", "scope_las", scope.la_codes)
    return f"CASE WHEN {resident} THEN 'footprint' ELSE {prefix}residence_class END"


def _review_group(scope: Scope, reviewer: str, trust: str, params: dict[str, object]) -> str:
    """Who reviews the death, relative to the scope: a CASE over the columns ``reviewer`` and ``trust``."""
    params["local_pairs"] = list(scope.local_pairs)
    local = f"list_contains($local_pairs::VARCHAR[], {reviewer} || '|' || {trust})"
    return f"CASE WHEN {reviewer} IS NULL THEN 'unassigned' WHEN {local} THEN 'local' ELSE 'other' END"


def _residence_where(filters: Filters, expression: str, params: dict[str, object]) -> str:
    if not filters.residence_groups:
        return ""
    params["f_residence"] = list(filters.residence_groups)
    return _member(f"({expression})", "f_residence", filters.residence_groups)


def scoped_rows(scope: Scope, filters: Filters) -> tuple[str, dict[str, object]]:
    """The scoped CTE ``f`` and its parameters, for query modules beside this one."""
    return _scoped_sql(scope, filters)


def _scoped_sql(
    scope: Scope, filters: Filters, residence_group: bool = True, review_group: bool = True
) -> tuple[str, dict[str, object]]:
    """The CTE ``f`` (the rows in view, each with its residence and review group
    unless told they are not read), and its parameters: for case lists."""
    where, params = _row_filter(scope, filters)
    groups = []
    if residence_group or filters.residence_groups:
        residence = _residence_group(scope, "r.", params)
        if filters.residence_groups:
            where.append(_residence_where(filters, residence, params))
        if residence_group:
            groups.append(f"{residence} AS residence_group")
    if review_group:
        # a group nobody reads still costs its test on every row (DuckDB keeps the join it becomes)
        groups.append(f"{_review_group(scope, 'r.reviewing_cdop_code', 'r.trust_code', params)} AS review_group")
    sql = f"""
    f AS (
        SELECT {", ".join(["r.*", *groups])}
        FROM report_facts AS r
        WHERE {" AND ".join(where)}
    )
    """
    return sql, params


SHORT_LIST = 32  # up to this many values, a list test per row beats a join


def _member(column: str, param: str, values: Sequence[object], sql_type: str = "VARCHAR") -> str:
    """``column`` is one of the bound list ``$param``: a list test for a short
    list, a semi-join for a long one (all-England scopes), same meaning."""
    if len(values) <= SHORT_LIST:
        return f"list_contains(${param}::{sql_type}[], {column})"
    return f"{column} IN (SELECT unnest(${param}::{sql_type}[]))"


def _query(
    conn: duckdb.DuckDBPyConnection,
    scope: Scope,
    filters: Filters,
    body: str,
    extra: dict[str, object] | None = None,
    groups: tuple[str, ...] | None = None,
) -> pl.DataFrame:
    """``body`` over the scoped rows ``f``. Each death's ``residence_group`` and
    ``review_group`` are worked out in ``f`` only when ``groups`` names them
    (when None, when ``body`` does)."""
    wanted = groups if groups is not None else tuple(g for g in ("residence_group", "review_group") if g in body)
    ctes, params = _scoped_sql(scope, filters, "residence_group" in wanted, "review_group" in wanted)
    return _fetch(conn, f"WITH {ctes} {body}", {**params, **(extra or {})})


_POLARS_TYPES = {
    "VARCHAR": pl.String,
    "BIGINT": pl.Int64,
    "INTEGER": pl.Int32,
    "SMALLINT": pl.Int16,
    "TINYINT": pl.Int8,
    "DATE": pl.Date,
    "BOOLEAN": pl.Boolean,
    "DOUBLE": pl.Float64,
}


def _fetch(conn: duckdb.DuckDBPyConnection, sql: str, params: dict[str, object]) -> pl.DataFrame:
    """A (small) result as a polars frame. Executed and fetched as rows: this
    binds the statement once, where a relation's ``.pl()`` binds it twice,
    which for the report's small results is a large part of the query's time."""
    rows, schema = _fetch_rows(conn, sql, params)
    return _frame(rows, schema)


def _fetch_rows(
    conn: duckdb.DuckDBPyConnection, sql: str, params: dict[str, object]
) -> tuple[list[tuple[object, ...]], dict[str, pl.DataType | None]]:
    """A result's rows, and its columns' polars types (None for a type not mapped)."""
    rows = conn.execute(sql, params).fetchall()
    return rows, {str(name): _POLARS_TYPES.get(str(kind)) for name, kind, *_ in conn.description or ()}


ROWS_READ_AS_COLUMNS_FROM = 100  # polars reads many rows quicker as columns, a few quicker as rows


def _frame(rows: Sequence[tuple[object, ...]], schema: dict[str, pl.DataType | None]) -> pl.DataFrame:
    if any(dtype is None for dtype in schema.values()):
        return pl.DataFrame(rows, schema=list(schema), orient="row")  # a type not mapped: let polars infer
    if len(rows) < ROWS_READ_AS_COLUMNS_FROM:
        return pl.DataFrame(rows, schema=schema, orient="row")  # type: ignore[arg-type]
    columns = zip(*rows, strict=True)
    return pl.DataFrame(dict(zip(schema, map(list, columns), strict=True)), schema=schema)  # type: ignore[arg-type]

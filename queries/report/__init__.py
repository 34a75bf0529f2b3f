"""Scoped read functions of the report: (connection, scope, filters) -> polars frame.

Every function reads ``report_facts`` (the report rule's rows, materialised
from the ``report_deaths`` view at each load) under the conditions built by
``_row_filter``, which always restricts rows to the scope's trusts with bound
parameters. Dimensions are chosen from a fixed list; nothing from a
caller is ever pasted into SQL text.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import date, timedelta

import duckdb
import polars as pl

from queries import codes, flags
from queries.filters import FilterOptions, Filters, Option
from queries.schema import SCHEMA_VERSION, get_meta
from queries.scope import Scope
from queries.store import StoreOutdated


@dataclass(frozen=True)
class Dimension:
    """One way of counting deaths. For a footprint, ``select`` is worked out
    per row. For all England, the rows are first grouped by the raw columns
    ``inner`` (few groups), and ``select`` worked out once per group: who
    reviews locally, for one, is then decided per group, not per death."""

    select: tuple[str, ...]  # key expressions "expr AS name" over a row or an inner group
    keys: tuple[str, ...]  # output key columns, in sort order
    inner: tuple[str, ...] = ()  # raw report_facts columns the keys need
    names: tuple[str, ...] = ()  # columns looked up by the first key's code in ``Names``, after counting
    labels: dict[str, str] | None = None  # code -> label, for a "<key>_label" column
    order: tuple[str, ...] = ()  # code-list order of the first key, if any


def _coded(column: str, labels: dict[str, str], alias: str | None = None) -> Dimension:
    name = alias or column
    return Dimension((f"{column} AS {name}",), (name,), inner=(column,), labels=labels, order=tuple(labels))


RESIDENCE_GROUP = "__residence_group__"  # replaced by the scope's expression in counts_sql
REVIEW_GROUP = "__review_group__"
DIMENSIONS: dict[str, Dimension] = {
    "trust": Dimension(("trust_code",), ("trust_name", "trust_code"), inner=("trust_code",), names=("trust_name",)),
    "site": Dimension(
        ("site_code",),
        ("site_name", "site_code"),
        inner=("site_code",),
        names=("site_name", "site_trust_code"),
    ),
    "place": _coded("place_in_hospital", codes.PLACES_IN_HOSPITAL, "place"),
    "age_group": _coded("age_group", codes.AGE_GROUPS),
    "reviewing_cdop": Dimension(
        (f"coalesce(reviewing_cdop_code, '{codes.UNASSIGNED}') AS reviewing_cdop_code",),
        ("reviewing_cdop_name", "reviewing_cdop_code"),
        inner=("reviewing_cdop_code",),
        names=("reviewing_cdop_name",),
    ),
    "review_group": Dimension(
        (f"{REVIEW_GROUP} AS review_group",),
        ("review_group",),
        inner=("reviewing_cdop_code", "trust_code"),
        labels=codes.REVIEW_GROUPS,
        order=tuple(codes.REVIEW_GROUPS),
    ),
    "residence_group": Dimension(
        (f"{RESIDENCE_GROUP} AS residence_group",),
        ("residence_group",),
        inner=("residence_class",),  # and, for a footprint, residence_la_code: see _inner_columns
        labels=codes.RESIDENCE_GROUPS,
        order=tuple(codes.RESIDENCE_GROUPS),
    ),
    "review_status": _coded("review_status", codes.REVIEW_STATUSES),
    "financial_year": Dimension(("financial_year",), ("financial_year",), inner=("financial_year",)),
    "quarter": Dimension(
        ("financial_year", "fy_quarter"), ("financial_year", "fy_quarter"), inner=("financial_year", "fy_quarter")
    ),
    "month": Dimension(("month",), ("month",), inner=("month",)),
}
TIME_GRAINS = ("month", "quarter", "financial_year")

CASE_COLUMNS: dict[str, str] = {
    # output name: SQL over f; the grid's sortable columns
    "case_ref": "f.case_ref",
    "date_of_death": "f.date_of_death",
    "financial_year": "f.financial_year",
    "age_group": "f.age_group",
    "sex": "f.sex",
    "trust_name": "f.trust_name",
    "site_name": "f.site_name",
    "place": "f.place_in_hospital",
    "residence_group": "f.residence_group",
    "reviewing_cdop": "coalesce(f.reviewing_cdop_name, 'Not yet assigned')",
    "review_status": "f.review_status",
    "expected_death": "f.expected_death",
    "attention": flags.attention_sql("f."),  # needs an AttentionRule's params
}
CASE_LABELS: dict[str, dict[str, str]] = {
    "age_group": codes.AGE_GROUPS,
    "sex": codes.SEXES,
    "place": codes.PLACES_IN_HOSPITAL,
    "residence_group": codes.RESIDENCE_GROUPS,
    "review_status": codes.REVIEW_STATUSES,
    "expected_death": codes.EXPECTED_DEATH,
}
MAX_PAGE = 1000


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


def _scoped_sql(scope: Scope, filters: Filters) -> tuple[str, dict[str, object]]:
    """The CTE ``f`` (the rows in view, each with its residence and review
    group), and its parameters: for case lists."""
    where, params = _row_filter(scope, filters)
    residence = _residence_group(scope, "r.", params)
    residence_where = _residence_where(filters, residence, params)
    if residence_where:
        where.append(residence_where)
    sql = f"""
    f AS (
        SELECT r.*,
            {residence} AS residence_group,
            {_review_group(scope, "r.reviewing_cdop_code", "r.trust_code", params)} AS review_group
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
    conn: duckdb.DuckDBPyConnection, scope: Scope, filters: Filters, body: str, extra: dict[str, object] | None = None
) -> pl.DataFrame:
    ctes, params = _scoped_sql(scope, filters)
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
    which for the report's small results was a quarter of the query's time."""
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


def headline(conn: duckdb.DuckDBPyConnection, scope: Scope, filters: Filters) -> pl.DataFrame:
    """One row: deaths, residents and non-residents, and who reviews them."""
    return _query(
        conn,
        scope,
        filters,
        """
        SELECT count(*) AS deaths,
               count(*) FILTER (WHERE residence_group = 'footprint') AS residents,
               count(*) FILTER (WHERE residence_group IN ('england', 'uk_other', 'outside_uk')) AS non_residents,
               count(*) FILTER (WHERE residence_group = 'england') AS residents_elsewhere_in_england,
               count(*) FILTER (WHERE residence_group = 'uk_other') AS residents_of_wales_scotland_ni,
               count(*) FILTER (WHERE residence_group = 'outside_uk') AS residents_outside_uk,
               count(*) FILTER (WHERE residence_group = 'not_known') AS residence_not_known,
               count(*) FILTER (WHERE review_group = 'local') AS reviewed_by_local_cdop,
               count(*) FILTER (WHERE review_group = 'other') AS reviewed_by_another_cdop,
               count(*) FILTER (WHERE review_group = 'unassigned') AS not_yet_assigned
        FROM f
    """,
    )


# How headline's columns add up (every death has one residence group and one review group), for
# disclosure control: hiding one of them is no use while the others and their total are shown.
HEADLINE_TOTALS: tuple[tuple[str, tuple[str, ...]], ...] = (
    ("deaths", ("residents", "non_residents", "residence_not_known")),
    ("non_residents", ("residents_elsewhere_in_england", "residents_of_wales_scotland_ni", "residents_outside_uk")),
    ("deaths", ("reviewed_by_local_cdop", "reviewed_by_another_cdop", "not_yet_assigned")),
)


def counts(
    conn: duckdb.DuckDBPyConnection, scope: Scope, filters: Filters, by: Sequence[str], names: Names | None = None
) -> pl.DataFrame:
    """Deaths counted by one or more of ``DIMENSIONS``, named, labelled and in
    display order, in one query (and one more for the names, unless given)."""
    _check_dimensions(by)
    sql, params = counts_sql(scope, filters, by)
    rows, schema = _fetch_rows(conn, sql, params)
    columns = dict(zip(schema, zip(*rows, strict=True), strict=True)) if rows else {c: () for c in schema}
    dims = [DIMENSIONS[d] for d in by]
    return _counts_frame(columns, schema, dims, _names_for(conn, [dims], names))


def counts_many(
    conn: duckdb.DuckDBPyConnection,
    scope: Scope,
    filters: Filters,
    breakdowns: Sequence[Sequence[str]],
    names: Names | None = None,
) -> list[pl.DataFrame]:
    """Several ``counts`` at once, in one statement: each breakdown groups only
    what it needs, side by side. (Rolling one cross-tabulation up in Python was
    quicker for a small footprint at national volume, but its cross-tab grows
    with the data: at 100x the overview spent 30 ms there, against 9 in SQL.)"""
    for by in breakdowns:
        _check_dimensions(by)
    if not breakdowns:
        return []
    sql, params = counts_many_sql(scope, filters, breakdowns)
    rows, schema = _fetch_rows(conn, sql, params)
    names = _names_for(conn, [[DIMENSIONS[d] for d in by] for by in breakdowns], names)
    parts: dict[object, list[tuple[object, ...]]] = {index: [] for index in range(len(breakdowns))}
    for row in rows:
        parts[row[0]].append(row)  # the first column is the breakdown's index, ``part``
    results = []
    for index, by in enumerate(breakdowns):
        dims = [DIMENSIONS[d] for d in by]
        part = list(zip(*parts[index], strict=True)) or [()] * len(schema)
        columns = {c: part[i] for i, c in enumerate(schema) if c in _key_columns(dims) or c == "deaths"}
        results.append(_counts_frame(columns, schema, dims, names))
    return results


def counts_many_sql(
    scope: Scope, filters: Filters, breakdowns: Sequence[Sequence[str]]
) -> tuple[str, dict[str, object]]:
    """The SQL ``counts_many`` runs: breakdowns whose raw columns overlap share
    one grouping of the rows (by all their columns), counted by GROUPING SETS;
    the groups of breakdowns run side by side, each row tagged with its
    breakdown's index as ``part``. Sharing a column is the test because one
    scan of the rows costs more than a somewhat finer grouping (the reviewing
    page's five breakdowns, all on site, reviewer or residence: 47 ms at 100x
    in one grouping, 70 in three), while breakdowns with nothing in common
    (age group, quarter) would multiply each other's groups."""
    clusters: list[tuple[list[str], list[int]]] = []  # (raw columns, breakdown indexes)
    needs = {i: _inner_columns(scope, filters, by) for i, by in enumerate(breakdowns)}
    for index in sorted(needs, key=lambda i: -len(needs[i])):
        host = next((c for c in clusters if set(needs[index]) & set(c[0])), None)
        if host is None:
            clusters.append((list(needs[index]), [index]))
        else:
            host[0].extend(c for c in needs[index] if c not in host[0])
            host[1].append(index)
    parts, params = [], {}
    for inner, members in clusters:
        sql, part_params = _grouping_sets_sql(scope, filters, inner, {i: breakdowns[i] for i in members})
        parts.append(sql)
        params.update(part_params)  # the same names always hold the same values
    return " UNION ALL BY NAME ".join(parts), params


def _inner_columns(scope: Scope, filters: Filters, by: Sequence[str]) -> list[str]:
    """The raw report_facts columns a breakdown is grouped by first."""
    inner = list(dict.fromkeys(c for d in by for c in DIMENSIONS[d].inner))
    if filters.residence_groups and "residence_class" not in inner:
        inner.append("residence_class")
    if "residence_class" in inner and not scope.england:  # "this footprint" is a list of areas
        inner.append("residence_la_code")
    return inner


def _grouping_sets_sql(
    scope: Scope, filters: Filters, inner: list[str], members: dict[int, Sequence[str]]
) -> tuple[str, dict[str, object]]:
    """Several breakdowns from one grouping of the rows by ``inner``."""
    where, params = _row_filter(scope, filters)
    residence = _residence_group(scope, "", params) if "residence_class" in inner else ""
    residence_where = _residence_where(filters, residence, params) if residence else ""
    needs_review = any("review_group" in by for by in members.values())
    review = _review_group(scope, "reviewing_cdop_code", "trust_code", params) if needs_review else ""
    keys: dict[str, str] = {}  # output column -> expression over the inner groups
    sets: dict[int, list[str]] = {}
    for index, by in members.items():
        sets[index] = []
        for dim in (DIMENSIONS[d] for d in by):
            for expr in dim.select:
                alias = expr.rsplit(" AS ", 1)[-1]
                keys[alias] = (
                    expr.rsplit(" AS ", 1)[0].replace(RESIDENCE_GROUP, residence).replace(REVIEW_GROUP, review)
                )
                sets[index].append(alias)
    columns = list(keys)
    # GROUPING(...) has a bit set for each column a set leaves out: which breakdown a row belongs to
    bits = {
        index: sum(1 << (len(columns) - 1 - i) for i, c in enumerate(columns) if c not in grouped)
        for index, grouped in sets.items()
    }
    part = "CASE grouping({}) {} END".format(
        ", ".join(f"k_{c}" for c in columns), " ".join(f"WHEN {bit} THEN {i}" for i, bit in bits.items())
    )
    sql = f"""
    SELECT {part} AS part, {", ".join(f"k_{c} AS {c}" for c in columns)}, sum(n)::BIGINT AS deaths
    FROM (
        SELECT {", ".join(f"{expr} AS k_{alias}" for alias, expr in keys.items())}, n
        FROM (
            SELECT {", ".join(f"r.{c}" for c in inner)}, count(*) AS n
            FROM report_facts AS r
            WHERE {" AND ".join(where)}
            GROUP BY {", ".join(f"r.{c}" for c in inner)}
        ) AS g
        {f"WHERE {residence_where}" if residence_where else ""}
    ) AS k
    GROUP BY GROUPING SETS ({", ".join("(" + ", ".join(f"k_{c}" for c in sets[i]) + ")" for i in sets)})
    """
    return sql, params


# Names are looked up after counting, not carried through it: three name
# columns flowing through the GROUPING SETS were a third of the all-England
# reviewing page's statement (41 ms of it at 100x). They come from the same
# reference tables ``report_facts`` was built from, so they are the same names.
NAMES_SQL = """
SELECT 'trust_code' AS code_column, trust_code AS code, trust_name AS name, NULL::VARCHAR AS extra FROM ref_trusts
UNION ALL SELECT 'site_code', site_code, site_name, trust_code FROM ref_sites
UNION ALL SELECT 'reviewing_cdop_code', cdop_code, cdop_name, NULL FROM ref_cdops
"""
NOT_FOUND: dict[str, tuple[object, ...]] = {
    "trust_code": (None,),
    "site_code": (None, None),
    "reviewing_cdop_code": ("Not yet assigned",),  # and the code of deaths with no reviewer yet
}


@dataclass(frozen=True)
class Names:
    """Names by code, per code column: what a dimension's ``names`` columns hold."""

    by_code: dict[str, dict[str, tuple[object, ...]]]

    def lookup(self, code_column: str, codes_: Sequence[object]) -> list[tuple[object, ...]]:
        found, missing = self.by_code.get(code_column, {}), NOT_FOUND[code_column]
        return [found.get(code, missing) for code in codes_]  # type: ignore[call-overload]


def _names_for(conn: duckdb.DuckDBPyConnection, breakdowns: list[list[Dimension]], names: Names | None) -> Names:
    """The names given, or read from the store if any dimension needs them."""
    if names is not None or not any(dim.names for dims in breakdowns for dim in dims):
        return names or Names({})
    return read_names(conn)


def read_names(conn: duckdb.DuckDBPyConnection) -> Names:
    """Every trust, hospital and CDOP name in the store (a few hundred rows)."""
    by_code: dict[str, dict[str, tuple[object, ...]]] = {column: {} for column in NOT_FOUND}
    for column, code, name, extra in conn.execute(NAMES_SQL).fetchall():
        by_code[column][code] = (name,) if len(NOT_FOUND[column]) == 1 else (name, extra)
    return Names(by_code)


def _check_dimensions(by: Sequence[str]) -> None:
    if not by or len(set(by)) != len(by):
        raise ValueError("counts needs distinct dimensions")
    unknown = [d for d in by if d not in DIMENSIONS]
    if unknown:
        raise ValueError(f"unknown dimensions: {unknown}")


def counts_sql(scope: Scope, filters: Filters, by: Sequence[str]) -> tuple[str, dict[str, object]]:
    """The SQL ``counts`` runs, with its parameters (the benchmark's floor runs it bare).

    For a footprint, one grouping of its few rows. For all England, the
    two-stage grouping of ``_grouping_sets_sql`` with this one breakdown."""
    inner = _inner_columns(scope, filters, by)
    if scope.england:
        sql, params = _grouping_sets_sql(scope, filters, inner, {0: by})
        return f"SELECT * EXCLUDE (part) FROM ({sql})", params
    dims = [DIMENSIONS[d] for d in by]
    where, params = _row_filter(scope, filters)
    residence = _residence_group(scope, "", params) if "residence_class" in inner else ""
    residence_where = _residence_where(filters, residence, params) if residence else ""
    review = _review_group(scope, "reviewing_cdop_code", "trust_code", params) if "review_group" in by else ""
    keys = ", ".join(
        expr.replace(RESIDENCE_GROUP, residence).replace(REVIEW_GROUP, review) for dim in dims for expr in dim.select
    )
    conditions = " AND ".join([*where, *([residence_where] if residence_where else [])])
    sql = f"""
    SELECT {keys}, count(*) AS deaths
    FROM report_facts AS r
    WHERE {conditions}
    GROUP BY ALL
    """
    return sql, params


# Result frames are small (one row per combination shown), where polars' fixed
# cost per operation outweighs the work; labelling, ordering and rolling up are
# plain Python over their rows, and one frame is built at the end.


def _counts_frame(
    columns: dict[str, Sequence[object]],
    schema: dict[str, pl.DataType | None],
    dims: list[Dimension],
    names: Names,
) -> pl.DataFrame:
    """Counted columns (keys and deaths) as a frame in display order, with each
    dimension's names looked up and a label column for each coded one."""
    full: dict[str, Sequence[object]] = {}
    types: dict[str, pl.DataType | None] = {}
    for dim in dims:
        keys = _key_columns([dim])
        full.update({key: columns[key] for key in keys})
        types.update({key: schema[key] for key in keys})
        if dim.names:
            found = names.lookup(keys[0], columns[keys[0]])
            for i, name in enumerate(dim.names):
                full[name], types[name] = [values[i] for values in found], pl.String
    full["deaths"], types["deaths"] = columns["deaths"], schema["deaths"]
    order = _display_order(full, dims)
    ordered = {name: [values[i] for i in order] for name, values in full.items()}
    for dim in dims:
        if dim.labels is not None:
            label = f"{dim.keys[0]}_label"
            ordered[label] = [dim.labels.get(code, "Not known") for code in ordered[dim.keys[0]]]  # type: ignore[call-overload]
            types[label] = pl.String
    return pl.DataFrame(ordered, schema=types)  # type: ignore[arg-type]


def _display_order(columns: dict[str, Sequence[object]], dims: list[Dimension]) -> list[int]:
    """The rows' display order: code-list order where there is one, else by
    name (nulls last); ties keep their order. The sort keys are built a column
    at a time, so that the comparisons run on plain tuples (the hospital x
    reviewer matrix has thousands of rows)."""
    count = len(columns["deaths"])
    if count < 2:
        return list(range(count))
    keys: list[Sequence[object]] = []
    for dim in dims:
        if dim.order:
            rank = {code: i for i, code in enumerate(dim.order)}
            keys.append([rank.get(code, len(rank)) for code in columns[dim.keys[0]]])
            continue
        for key in dim.keys:
            values = columns[key]
            keys.append([(v is None, v) for v in values] if None in values else values)
    return sorted(range(count), key=list(zip(*keys, strict=True)).__getitem__)


def _key_columns(dims: list[Dimension]) -> list[str]:
    """The key columns the dimensions' statement returns (their names are looked up after)."""
    return [expr.rsplit(" AS ", 1)[-1].rsplit(".", 1)[-1] for dim in dims for expr in dim.select]


def _columns(dim: Dimension, labelled: bool = True) -> list[str]:
    """The columns one dimension contributes to a counts frame (with its label column, if ``labelled``)."""
    names = [*_key_columns([dim]), *dim.names]
    return [*names, f"{dim.keys[0]}_label"] if labelled and dim.labels is not None else names


def rollup(base: pl.DataFrame, by: Sequence[str]) -> pl.DataFrame:
    """Re-count a ``counts`` frame by some of its dimensions, without asking the
    store again: one query per view, then as many breakdowns as it needs."""
    dims = [DIMENSIONS[d] for d in by]
    columns = [c for dim in dims for c in _columns(dim)]
    missing = [c for c in columns if c not in base.columns]
    if missing:
        raise ValueError(f"the base frame has no {missing}")
    totals: dict[tuple[object, ...], int] = {}
    for *key, deaths in zip(*(base[c].to_list() for c in columns), base["deaths"].to_list(), strict=True):
        totals[tuple(key)] = totals.get(tuple(key), 0) + deaths
    rolled: dict[str, Sequence[object]] = {c: [key[i] for key in totals] for i, c in enumerate(columns)}
    rolled["deaths"] = list(totals.values())
    order = _display_order(rolled, dims)
    return pl.DataFrame(
        {name: [values[i] for i in order] for name, values in rolled.items()},
        schema={name: base.schema[name] for name in rolled},
    )


def headline_from(base: pl.DataFrame) -> pl.DataFrame:
    """``headline`` computed from a counts frame that has the residence and review groups."""
    residence: dict[str, int] = {}
    review: dict[str, int] = {}
    columns = (base[c].to_list() for c in ("residence_group", "review_group", "deaths"))
    for lived, reviewed, deaths in zip(*columns, strict=True):
        residence[lived] = residence.get(lived, 0) + deaths
        review[reviewed] = review.get(reviewed, 0) + deaths
    row = {
        "deaths": sum(residence.values()),
        "residents": residence.get("footprint", 0),
        "non_residents": sum(residence.get(g, 0) for g in ("england", "uk_other", "outside_uk")),
        "residents_elsewhere_in_england": residence.get("england", 0),
        "residents_of_wales_scotland_ni": residence.get("uk_other", 0),
        "residents_outside_uk": residence.get("outside_uk", 0),
        "residence_not_known": residence.get("not_known", 0),
        "reviewed_by_local_cdop": review.get("local", 0),
        "reviewed_by_another_cdop": review.get("other", 0),
        "not_yet_assigned": review.get("unassigned", 0),
    }
    return pl.DataFrame([row], schema=dict.fromkeys(row, pl.Int64))


def by_trust(conn: duckdb.DuckDBPyConnection, scope: Scope, filters: Filters) -> pl.DataFrame:
    return counts(conn, scope, filters, ["trust"])


def by_site(conn: duckdb.DuckDBPyConnection, scope: Scope, filters: Filters) -> pl.DataFrame:
    return counts(conn, scope, filters, ["site"])


def by_place(conn: duckdb.DuckDBPyConnection, scope: Scope, filters: Filters) -> pl.DataFrame:
    return counts(conn, scope, filters, ["place"])


def by_age_group(conn: duckdb.DuckDBPyConnection, scope: Scope, filters: Filters) -> pl.DataFrame:
    return counts(conn, scope, filters, ["age_group"])


def by_trust_site_place_age(conn: duckdb.DuckDBPyConnection, scope: Scope, filters: Filters) -> pl.DataFrame:
    return counts(conn, scope, filters, ["trust", "site", "place", "age_group"])


def by_reviewing_cdop(conn: duckdb.DuckDBPyConnection, scope: Scope, filters: Filters) -> pl.DataFrame:
    return counts(conn, scope, filters, ["reviewing_cdop"])


def by_site_reviewing_cdop(conn: duckdb.DuckDBPyConnection, scope: Scope, filters: Filters) -> pl.DataFrame:
    return counts(conn, scope, filters, ["site", "reviewing_cdop"])


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


# Column filters the case grid may send, per column: the SQL it filters and how.
TEXT_FILTER_COLUMNS = ("case_ref", "trust_name", "site_name", "reviewing_cdop")
TEXT_OPERATORS = {"contains": "%{}%", "startsWith": "{}%", "endsWith": "%{}", "equals": "{}"}
DATE_OPERATORS = ("equals", "lessThan", "greaterThan", "inRange")


@dataclass(frozen=True)
class ColumnFilter:
    """One column filter from the case grid, already checked by ``column_filter``."""

    column: str
    operator: str
    value: str | date
    value_to: date | None = None


def column_filter(column: object, operator: object, value: object, value_to: object = None) -> ColumnFilter | None:
    """A grid filter if every part is one we support; None otherwise."""
    if not isinstance(column, str) or not isinstance(operator, str):
        return None
    text_ok = isinstance(value, str) and 0 < len(value) <= 100
    if column in TEXT_FILTER_COLUMNS and operator in TEXT_OPERATORS and text_ok:
        return ColumnFilter(column, operator, str(value))
    if column == "date_of_death" and operator in DATE_OPERATORS:
        start, end = _iso_day(value), _iso_day(value_to)
        if start is None or (operator == "inRange" and end is None):
            return None
        return ColumnFilter(column, operator, start, end if operator == "inRange" else None)
    return None


def _iso_day(value: object) -> date | None:
    if not isinstance(value, str):
        return None
    try:
        return date.fromisoformat(value[:10])
    except ValueError:
        return None


def _column_conditions(column_filters: Sequence[ColumnFilter]) -> tuple[str, dict[str, object]]:
    conditions, params = [], {}
    for index, cf in enumerate(column_filters):
        name = f"cf{index}"
        expr = CASE_COLUMNS[cf.column]
        if cf.column == "date_of_death":
            symbol = {"equals": "=", "lessThan": "<", "greaterThan": ">"}.get(cf.operator)
            params[name] = cf.value
            if symbol:
                conditions.append(f"{expr} {symbol} ${name}")
            else:
                params[f"{name}_to"] = cf.value_to
                conditions.append(f"{expr} BETWEEN ${name} AND ${name}_to")
        else:
            escaped = str(cf.value).replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
            params[name] = TEXT_OPERATORS[cf.operator].format(escaped)
            conditions.append(f"{expr} ILIKE ${name} ESCAPE '\\'")
    return (" WHERE " + " AND ".join(conditions)) if conditions else "", params


def case_count(
    conn: duckdb.DuckDBPyConnection, scope: Scope, filters: Filters, column_filters: Sequence[ColumnFilter] = ()
) -> int:
    where, params = _column_conditions(column_filters)
    frame = _query(conn, scope, filters, f"SELECT count(*) AS n FROM f{where}", params)
    return int(frame["n"][0])


def case_list(
    conn: duckdb.DuckDBPyConnection,
    scope: Scope,
    filters: Filters,
    *,
    sort: Sequence[tuple[str, bool]] = (("date_of_death", True),),
    limit: int = 100,
    offset: int = 0,
    column_filters: Sequence[ColumnFilter] = (),
    rule: flags.AttentionRule | None = None,
) -> pl.DataFrame:
    """One page of cases, pseudonymous: ``sort`` is (column, descending) pairs
    over ``CASE_COLUMNS``; unknown columns are ignored. ``rule`` sets the
    thresholds of the attention flags."""
    order = [f"{CASE_COLUMNS[col]} {'DESC' if desc else 'ASC'}" for col, desc in sort if col in CASE_COLUMNS]
    order.append("f.case_ref")  # a total order, so pages never overlap
    limit = max(0, min(int(limit), MAX_PAGE))
    offset = max(0, int(offset))
    where, params = _column_conditions(column_filters)
    columns = ", ".join(f"{expr} AS {name}" for name, expr in CASE_COLUMNS.items())
    frame = _query(
        conn,
        scope,
        filters,
        f"SELECT {columns} FROM f{where} ORDER BY {', '.join(order)} LIMIT $limit OFFSET $offset",
        {"limit": limit, "offset": offset, **params, **(rule or flags.AttentionRule()).params()},
    )
    return label_cases(frame)


def iter_cases(
    conn: duckdb.DuckDBPyConnection,
    scope: Scope,
    filters: Filters,
    batch_rows: int = 10_000,
    rule: flags.AttentionRule | None = None,
) -> Iterator[pl.DataFrame]:
    """Every case in view, newest first, in batches of about ``batch_rows``
    (for streaming a CSV without holding it all). Sorting every case at once
    held them all in memory; each batch is a run of whole months, sorted alone."""
    ctes, params = _scoped_sql(scope, filters)
    attention = (rule or flags.AttentionRule()).params()
    months = conn.execute(
        f"WITH {ctes} SELECT f.month, count(*) FROM f GROUP BY f.month ORDER BY f.month DESC NULLS LAST", params
    ).fetchall()
    columns = ", ".join(f"{expr} AS {name}" for name, expr in CASE_COLUMNS.items())
    batch: list[object] = []
    rows = 0
    for index, (month, deaths) in enumerate(months):
        batch.append(month)
        rows += deaths
        if rows < batch_rows and index + 1 < len(months):
            continue
        within = "f.month IN (SELECT unnest($months::DATE[]))" + (" OR f.month IS NULL" if None in batch else "")
        relation = conn.sql(
            f"WITH {ctes} SELECT {columns} FROM f WHERE {within} ORDER BY f.date_of_death DESC, f.case_ref",
            params={**params, **attention, "months": [m for m in batch if m is not None]},
        )
        for part in relation.to_arrow_reader(batch_rows):
            yield label_cases(pl.from_arrow(part))  # type: ignore[arg-type]
        batch, rows = [], 0


def label_cases(frame: pl.DataFrame) -> pl.DataFrame:
    """Codes to the words a person reads, for the grid and the CSV."""
    return frame.with_columns(
        # codes.financial_year_label, vectorised: 2024 -> "2024/25"
        pl.concat_str(
            pl.col("financial_year").cast(pl.String),
            pl.lit("/"),
            ((pl.col("financial_year") + 1) % 100).cast(pl.String).str.zfill(2),
        ).alias("financial_year"),
        *(
            pl.col(column).replace_strict(labels, default="Not known", return_dtype=pl.String)
            for column, labels in CASE_LABELS.items()
        ),
    )


def filter_options(conn: duckdb.DuckDBPyConnection, scope: Scope) -> FilterOptions:
    """What this scope may filter by: its own trusts and hospitals, the years it
    has deaths in, and the CDOPs reviewing deaths in its hospitals."""
    params = {"trusts": list(scope.trust_codes)}
    trusts = conn.execute(
        """
        SELECT trust_code, trust_name FROM ref_trusts
        WHERE trust_code IN (SELECT unnest($trusts::VARCHAR[])) ORDER BY trust_name
    """,
        params,
    ).fetchall()
    sites = conn.execute(
        """
        SELECT s.site_code, s.site_name, s.trust_code FROM ref_sites AS s
        WHERE s.trust_code IN (SELECT unnest($trusts::VARCHAR[])) AND s.country = 'England'
          AND (s.nicu OR s.lnu OR s.scu OR s.picu OR s.ed OR s.maternity OR s.paediatric_ward
               OR s.site_code IN (SELECT DISTINCT site_code FROM report_facts
                                  WHERE trust_code IN (SELECT unnest($trusts::VARCHAR[]))))
        ORDER BY s.site_name
    """,
        params,
    ).fetchall()
    facts = conn.execute(
        """
        SELECT list(DISTINCT financial_year ORDER BY financial_year DESC), min(date_of_death), max(date_of_death)
        FROM report_facts WHERE trust_code IN (SELECT unnest($trusts::VARCHAR[]))
    """,
        params,
    ).fetchall()[0]
    reviewers = conn.execute(
        """
        SELECT DISTINCT reviewing_cdop_code, reviewing_cdop_name FROM report_facts
        WHERE reviewing_cdop_code IS NOT NULL AND trust_code IN (SELECT unnest($trusts::VARCHAR[]))
        ORDER BY reviewing_cdop_name
    """,
        params,
    ).fetchall()
    years, first, last = facts if facts else ([], None, None)
    return FilterOptions(
        financial_years=tuple(Option(str(y), codes.financial_year_label(y)) for y in (years or [])),
        trusts=tuple(Option(code, name) for code, name in trusts),
        sites=tuple(Option(code, name, trust) for code, name, trust in sites),
        reviewing_cdops=(
            *(Option(code, name) for code, name in reviewers),
            Option(codes.UNASSIGNED, "Not yet assigned"),
        ),
        first_date=first,
        last_date=last,
    )


def data_facts(conn: duckdb.DuckDBPyConnection) -> dict[str, object]:
    """The store's as-at date, whether it is synthetic, and its size."""
    version = get_meta(conn, "schema_version")
    if version != SCHEMA_VERSION:
        raise StoreOutdated(
            f"the deaths store was built by another version of this app (store {version}, app {SCHEMA_VERSION}); "
            "load the extract again with --replace, or rebuild the demo with `python app.py demo`"
        )
    as_at = get_meta(conn, "data_as_at")
    row = conn.execute(
        "SELECT count(*), coalesce(bool_or(starts_with(case_id, ?)), false) FROM deaths",
        [codes.DEMO_CASE_PREFIX],
    ).fetchall()[0]
    return {
        "as_at": date.fromisoformat(as_at) if as_at else None,
        "synthetic": bool(row[1]),
        "deaths": int(row[0]),
    }

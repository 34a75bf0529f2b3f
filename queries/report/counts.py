"""Counts of deaths by dimensions (GROUPING SETS), named and labelled in
display order; the headline; re-counting a frame without asking the store again.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import duckdb
import polars as pl

from queries.filters import Filters
from queries.report.dimensions import (
    DIMENSIONS,
    RESIDENCE_GROUP,
    REVIEW_GROUP,
    Dimension,
    _check_dimensions,
    _columns,
    _key_columns,
)
from queries.report.sql import _fetch_rows, _query, _residence_group, _residence_where, _review_group, _row_filter
from queries.scope import Scope


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
    with the data, and at high volume SQL was several times quicker.)"""
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
    page's five breakdowns, all on site, reviewer or residence, are quicker in
    one grouping than in three), while breakdowns with nothing in common
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
# columns flowing through the GROUPING SETS were a large part of the all-England
# reviewing page's statement (see bench/results.md). They come from the same
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

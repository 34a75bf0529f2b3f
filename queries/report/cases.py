"""The case grid and the case CSV: pages of pseudonymous cases, sorted and
filtered by column, and every case in view in batches.

Column filters use a neutral vocabulary of operators (``TEXT_OPERATORS``,
``DATE_OPERATORS``); translating a grid's own filter model into it is the
web layer's job.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import date

import duckdb
import polars as pl

from queries import codes, flags
from queries.filters import Filters
from queries.report.sql import _query, _scoped_sql
from queries.scope import Scope

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


# Column filters the case list supports: which columns, and how each kind is tested.
TEXT_FILTER_COLUMNS = ("case_ref", "trust_name", "site_name", "reviewing_cdop")
DATE_FILTER_COLUMNS = ("date_of_death",)
# The operators are this layer's own words, not any grid's: the web layer translates.
TEXT_OPERATORS = {"contains": "%{}%", "starts_with": "{}%", "ends_with": "%{}", "equals": "{}"}  # ILIKE patterns
DATE_COMPARISONS = {"on": "=", "before": "<", "after": ">"}
DATE_OPERATORS = (*DATE_COMPARISONS, "between")


@dataclass(frozen=True)
class ColumnFilter:
    """One column filter on the case list, already checked by ``column_filter``."""

    column: str
    operator: str
    value: str | date
    value_to: date | None = None


def column_filter(column: object, operator: object, value: object, value_to: object = None) -> ColumnFilter | None:
    """A column filter if every part is one we support; None otherwise. A date
    filter ``between`` takes both days, inclusive."""
    if not isinstance(column, str) or not isinstance(operator, str):
        return None
    text_ok = isinstance(value, str) and 0 < len(value) <= 100
    if column in TEXT_FILTER_COLUMNS and operator in TEXT_OPERATORS and text_ok:
        return ColumnFilter(column, operator, str(value))
    if column in DATE_FILTER_COLUMNS and operator in DATE_OPERATORS:
        start, end = _iso_day(value), _iso_day(value_to)
        if start is None or (operator == "between" and end is None):
            return None
        return ColumnFilter(column, operator, start, end if operator == "between" else None)
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
        if cf.column in DATE_FILTER_COLUMNS:
            symbol = DATE_COMPARISONS.get(cf.operator)
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

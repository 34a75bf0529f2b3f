"""What is new in a footprint's hospitals: deaths that entered the store after a given moment.

Each case carries ``first_loaded_at``, when the load that first brought it into
the store finished; a later load that changes the case does not make it new
again. Every function is scoped like the rest of the query layer (it reads the
scope's rows through ``report.scoped_rows``).
"""

from __future__ import annotations

from datetime import datetime

import duckdb
import polars as pl

from queries import codes, flags, report
from queries.filters import Filters
from queries.scope import Scope

# How the list is grouped, in display order: the deaths a local panel is most
# likely not to know about come first.
GROUPS: dict[str, str] = {
    "elsewhere": "Non-residents reviewed by another CDOP",
    "unassigned": "No reviewing CDOP assigned yet",
    "residents": "Residents of this footprint",
    "local": "Non-residents reviewed by a CDOP of this footprint",
}
GROUP_SQL = """CASE
    WHEN f.review_group = 'unassigned' THEN 'unassigned'
    WHEN f.residence_group = 'footprint' THEN 'residents'
    WHEN f.review_group = 'other' THEN 'elsewhere'
    ELSE 'local'
END"""

# output column: SQL over f
COLUMNS: dict[str, str] = {
    "case_ref": "f.case_ref",
    "group": GROUP_SQL,
    "date_of_death": "f.date_of_death",
    "trust_name": "f.trust_name",
    "site_name": "f.site_name",
    "place": "f.place_in_hospital",
    "age_group": "f.age_group",
    "residence_group": "f.residence_group",
    "reviewing_cdop": "coalesce(f.reviewing_cdop_name, 'Not yet assigned')",
    "review_status": "f.review_status",
    "notification_date": "f.notification_date",
    "days_since_notification": "CAST($as_at - f.notification_date AS INTEGER)",
    "entered_store": "CAST(f.first_loaded_at AS DATE)",
    "attention": flags.attention_sql("f."),
}
LABELS: dict[str, dict[str, str]] = {
    "group": GROUPS,
    "place": codes.PLACES_IN_HOSPITAL,
    "age_group": codes.AGE_GROUPS,
    "residence_group": codes.RESIDENCE_GROUPS,
    "review_status": codes.REVIEW_STATUSES,
}


def latest_load(conn: duckdb.DuckDBPyConnection) -> datetime | None:
    """When the newest load finished (UTC): what "everything in the store now" means as a mark."""
    row = conn.execute("SELECT max(finished_at) FROM load_runs").fetchall()[0]
    return row[0]


def new_count(conn: duckdb.DuckDBPyConnection, scope: Scope, since: datetime) -> int:
    """How many deaths in the scope's hospitals entered the store after ``since``:
    the indicator on every page, so one small aggregate."""
    ctes, params = report.scoped_rows(scope, Filters())
    rows = conn.execute(
        f"WITH {ctes} SELECT count(*) FROM f WHERE f.first_loaded_at > $since", {**params, "since": since}
    ).fetchall()
    return int(rows[0][0])


def new_cases(
    conn: duckdb.DuckDBPyConnection, scope: Scope, since: datetime, rule: flags.AttentionRule
) -> pl.DataFrame:
    """Every death in the scope's hospitals that entered the store after
    ``since``, labelled, by group (``GROUPS`` order), newest arrival first."""
    ctes, params = report.scoped_rows(scope, Filters())
    order = ", ".join(f"'{key}'" for key in GROUPS)
    select = ", ".join(f"{expr} AS {name}" for name, expr in COLUMNS.items())
    frame = conn.sql(
        f"""
        WITH {ctes}
        SELECT {select} FROM f WHERE f.first_loaded_at > $since
        ORDER BY list_position([{order}], {GROUP_SQL}), f.first_loaded_at DESC, f.date_of_death DESC, f.case_ref
        """,
        params={**params, **rule.params(), "since": since, "as_at": rule.day},
    ).pl()
    return frame.with_columns(
        pl.col("group").alias("group_code"),
        *(
            pl.col(column).replace_strict(labels, default="Not known", return_dtype=pl.String)
            for column, labels in LABELS.items()
        ),
    )


def attention_counts(conn: duckdb.DuckDBPyConnection, scope: Scope, rule: flags.AttentionRule) -> dict[str, int]:
    """How many deaths in the scope's hospitals (whenever they arrived) each flag applies to."""
    ctes, params = report.scoped_rows(scope, Filters())
    counts = ", ".join(f"count(*) FILTER (WHERE {flags.condition(flag, 'f.')})" for flag in flags.FLAGS)
    row = conn.execute(f"WITH {ctes} SELECT {counts} FROM f", {**params, **rule.condition_params()}).fetchall()[0]
    return {flag: int(value) for flag, value in zip(flags.FLAGS, row, strict=True)}

"""The footprint's shares of its hospitals' deaths (where in the hospital,
whose residents, who reviews them) with England's beside: the comparator
column the existing pages gain.

For a footprint, "non-resident" is a child not living in the footprint
(the headline's ``non_residents``: residence known and outside the scope's
areas). For England the same question is asked of each death's own hospital:
the child did not live in the footprint of a CDOP whose footprint holds the
hospital's trust on the scope's day, so England's share is the share every
footprint's deaths would give if pooled, not "resident outside England".
"Reviewed by another CDOP" is already relative to the hospital for both.
"""

from __future__ import annotations

import duckdb
import polars as pl

from queries.filters import Filters
from queries.mapping import Mapping, mapping_from_store
from queries.report.comparator import COMPARISON_SCHEMA, compared_row, england_filters, england_for, is_england
from queries.report.sql import _query, _review_group
from queries.scope import Scope

# measure: (label, condition on the rows in view, counted by ``GROUPED``); every share is of all deaths in view
SHARES: dict[str, tuple[str, str]] = {
    "neonatal_unit": ("Died on a neonatal unit (NICU, LNU or SCU)", "place_in_hospital IN ('nicu', 'lnu', 'scu')"),
    "picu": ("Died in a paediatric intensive care unit", "place_in_hospital = 'picu'"),
    "ed": ("Died in an emergency department", "place_in_hospital = 'ed'"),
    "non_residents": ("Not resident in the footprint", "{non_resident}"),
    "reviewed_elsewhere": ("Reviewed by another CDOP", "review_group = 'other'"),
    "unassigned": ("Reviewing CDOP not yet assigned", "review_group = 'unassigned'"),
}


def hospital_shares(
    conn: duckdb.DuckDBPyConnection,
    scope: Scope,
    filters: Filters,
    mapping: Mapping | None = None,
    national: dict[str, int] | None = None,
) -> pl.DataFrame:
    """One row per share of ``SHARES`` (``COMPARISON_SCHEMA``): the scope's
    count of its deaths in view, share and interval, and England's beside
    (``england_counts``, computed here unless given)."""
    mapping = mapping or mapping_from_store(conn)
    if national is None:
        national = england_counts(conn, scope, filters, mapping)
    if is_england(scope, filters):
        local = national
    elif scope.england:  # all England's own view asks England's question, so that its two sides agree
        local = _counts(conn, scope, filters, *_non_resident_of_hospital(scope, mapping))
    else:
        local = _counts(conn, scope, filters, NON_RESIDENT_OF_SCOPE, "", {})
    rows = [
        compared_row(measure, label, local[measure], local["deaths"], national[measure], national["deaths"])
        for measure, (label, _) in SHARES.items()
    ]
    return pl.DataFrame(rows, schema=COMPARISON_SCHEMA, orient="row")


def england_counts(
    conn: duckdb.DuckDBPyConnection, scope: Scope, filters: Filters, mapping: Mapping | None = None
) -> dict[str, int]:
    """All England's deaths in view (``deaths``) and the count of each share of
    ``SHARES``, under ``england_filters(filters)`` on the day of ``scope``: the
    same for every user on that day, so a caller may keep it for all of them."""
    mapping = mapping or mapping_from_store(conn)
    england = england_for(conn, scope, mapping)
    return _counts(conn, england, england_filters(filters), *_non_resident_of_hospital(england, mapping))


NON_RESIDENT_OF_SCOPE = "residence_group IN ('england', 'uk_other', 'outside_uk')"  # as the headline counts


def _non_resident_of_hospital(england: Scope, mapping: Mapping) -> tuple[str, str, dict[str, object]]:
    """The condition "residence known, and not in the footprint of a CDOP holding
    the hospital's trust" on ``england``'s day, the join it reads and its parameters.
    A join on the two columns, not a test of "area|trust" text per row: about half the time."""
    pairs = [pair.split("|") for pair in mapping.resident_pairs(england.trust_codes, england.day)]
    join = """LEFT JOIN (SELECT unnest($resident_las::VARCHAR[]) AS la, unnest($resident_trusts::VARCHAR[]) AS trust)
              AS resident ON resident.la = grouped.residence_la_code AND resident.trust = grouped.trust_code"""
    params = {"resident_las": [la for la, _ in pairs], "resident_trusts": [trust for _, trust in pairs]}
    return "residence_class <> 'not_known' AND resident.la IS NULL", join, params


# The columns the shares' conditions read: the rows in view are counted by these first (some tens
# of thousands of groups for all England), and the review group and the residence test are worked out
# per group, not per death (about a third of the time for millions of deaths).
GROUPED = ("place_in_hospital", "residence_class", "residence_la_code", "trust_code", "reviewing_cdop_code")


def _counts(
    conn: duckdb.DuckDBPyConnection,
    scope: Scope,
    filters: Filters,
    non_resident: str,
    join: str,
    extra: dict[str, object],
) -> dict[str, int]:
    params = dict(extra)
    review_group = _review_group(scope, "reviewing_cdop_code", "trust_code", params)
    keys = ", ".join([*GROUPED, *(["residence_group"] if "residence_group" in non_resident else [])])
    measures = ", ".join(
        f"CAST(coalesce(sum(n) FILTER (WHERE {condition.format(non_resident=non_resident)}), 0) AS BIGINT) AS {measure}"
        for measure, (_, condition) in SHARES.items()
    )
    body = f"""
    SELECT CAST(coalesce(sum(n), 0) AS BIGINT) AS deaths, {measures}
    FROM (SELECT *, {review_group} AS review_group FROM (SELECT {keys}, count(*) AS n FROM f GROUP BY ALL)) AS grouped
    {join}
    """
    groups = ("residence_group",) if "residence_group" in non_resident else ()
    frame = _query(conn, scope, filters, body, params, groups=groups)
    return {name: int(value) for name, value in frame.row(0, named=True).items()}

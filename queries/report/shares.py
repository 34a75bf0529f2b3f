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
from queries.report.comparator import COMPARISON_SCHEMA, compared_row, england_filters, england_for
from queries.report.sql import _member, _query
from queries.scope import Scope

# measure: (label, condition on the scoped rows ``f``); every share is of all deaths in view
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
    england = england_for(conn, scope, mapping)
    by_hospital = _non_resident_of_hospital(england, mapping)
    # all England's own view asks England's question, so that its two sides agree
    local = _counts(conn, scope, filters, *(by_hospital if scope.england else (NON_RESIDENT_OF_SCOPE, {})))
    national = national or _counts(conn, england, england_filters(filters), *by_hospital)
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


def _non_resident_of_hospital(england: Scope, mapping: Mapping) -> tuple[str, dict[str, object]]:
    """The condition "residence known, and not in the footprint of a CDOP holding
    the hospital's trust" on ``england``'s day, with its parameters."""
    pairs = mapping.resident_pairs(england.trust_codes, england.day)
    resident = _member("residence_la_code || '|' || trust_code", "resident_pairs", pairs)
    return f"residence_class <> 'not_known' AND NOT coalesce({resident}, false)", {"resident_pairs": list(pairs)}


def _counts(
    conn: duckdb.DuckDBPyConnection, scope: Scope, filters: Filters, non_resident: str, extra: dict[str, object]
) -> dict[str, int]:
    measures = ", ".join(
        f"count(*) FILTER (WHERE {condition.format(non_resident=non_resident)}) AS {measure}"
        for measure, (_, condition) in SHARES.items()
    )
    frame = _query(conn, scope, filters, f"SELECT count(*) AS deaths, {measures} FROM f", extra)
    return {name: int(value) for name, value in frame.row(0, named=True).items()}

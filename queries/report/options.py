"""What a scope may filter by, and what the store holds (its as-at date and size)."""

from __future__ import annotations

from datetime import date

import duckdb

from queries import codes
from queries.filters import FilterOptions, Option
from queries.schema import SCHEMA_VERSION, get_meta
from queries.scope import Scope
from queries.store import StoreOutdated

# The hospital sites a scope offers (``$trusts``: its trusts): English sites with an inpatient
# unit, or with a death in the store. The filter bar and the map list the same ones.
SCOPE_SITES = """
    FROM ref_sites AS s
    WHERE s.trust_code IN (SELECT unnest($trusts::VARCHAR[])) AND s.country = 'England'
      AND (s.nicu OR s.lnu OR s.scu OR s.picu OR s.ed OR s.maternity OR s.paediatric_ward
           OR s.site_code IN (SELECT DISTINCT site_code FROM report_facts
                              WHERE trust_code IN (SELECT unnest($trusts::VARCHAR[]))))
"""


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
        f"SELECT s.site_code, s.site_name, s.trust_code {SCOPE_SITES} ORDER BY s.site_name", params
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
    areas = conn.execute(
        """
        SELECT DISTINCT f.residence_la_code, la.la_name FROM report_facts AS f
        LEFT JOIN ref_local_authorities AS la ON la.la_code = f.residence_la_code
        WHERE f.residence_la_code IS NOT NULL AND f.trust_code IN (SELECT unnest($trusts::VARCHAR[]))
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
        residence_areas=area_options(areas),
    )


def area_options(areas: list[tuple[str, str | None]]) -> tuple[Option, ...]:
    """Areas of residence by name; the countries and abroad, which have no local authority, last."""
    english = sorted(((name or code, code) for code, name in areas if code not in codes.NON_ENGLAND_RESIDENCE))
    others = [code for code in codes.NON_ENGLAND_RESIDENCE if code in {c for c, _ in areas}]
    return (
        *(Option(code, name) for name, code in english),
        *(Option(code, codes.NON_ENGLAND_RESIDENCE[code]) for code in others),
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

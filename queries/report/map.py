"""What the map counts: deaths by hospital, by where the children lived, and from where to where.

Every count comes from the scoped ``counts`` (the scope's trusts, in SQL), so
an area outside the footprint appears only as the home of a child who died in
one of the footprint's hospitals. Where the hospitals are and their units come
from the reference tables, for the scope's own sites only.
"""

from __future__ import annotations

from dataclasses import dataclass

import duckdb
import polars as pl

from queries import codes
from queries.filters import Filters
from queries.report.counts import Names, counts, counts_many
from queries.report.options import SCOPE_SITES
from queries.report.sql import _residence_group, _residence_where, _row_filter
from queries.scope import Scope

# by hospital and place; by hospital and residence; by area of residence
BREAKDOWNS = (["site", "place"], ["site", "residence_group"], ["residence_area", "residence_group"])
HIGHEST_UNIT_SQL = (
    "CASE WHEN s.picu THEN 'picu' WHEN s.nicu THEN 'nicu' WHEN s.lnu THEN 'lnu' WHEN s.scu THEN 'scu' ELSE 'none' END"
)


@dataclass(frozen=True)
class MapCounts:
    places: pl.DataFrame  # site_code, site_name, site_trust_code, place, place_label, deaths
    residence: pl.DataFrame  # site_code, ..., residence_group, residence_group_label, deaths
    areas: pl.DataFrame  # residence_area, residence_group, deaths, residence_group_label
    flows: list[tuple[str, str, int]]  # (English area, site, deaths) at or above the threshold, most first
    pairs: int  # how many such pairs there are (``flows`` holds at most the limit asked for)


def map_counts(
    conn: duckdb.DuckDBPyConnection,
    scope: Scope,
    filters: Filters,
    least: int,
    limit: int,
    names: Names | None = None,
) -> MapCounts:
    """The map's breakdowns (one statement) and its lines (one more)."""
    places, residence, areas = counts_many(conn, scope, filters, [list(b) for b in BREAKDOWNS], names)
    flows, pairs = area_site_pairs(conn, scope, filters, least, limit)
    return MapCounts(places=places, residence=residence, areas=areas, flows=flows, pairs=pairs)


def area_site_pairs(
    conn: duckdb.DuckDBPyConnection, scope: Scope, filters: Filters, least: int, limit: int
) -> tuple[list[tuple[str, str, int]], int]:
    """Deaths by English area of residence and hospital, the pairs with at least ``least``, the
    ``limit`` with most; and how many pairs qualify. Counted and cut in SQL: all England pairs
    nearly every area with every hospital, and only the strongest are drawn."""
    where, params = _row_filter(scope, filters)
    if filters.residence_groups:
        where.append(_residence_where(filters, _residence_group(scope, "r.", params), params))
    params.update(least=least, limit=limit)
    rows = conn.execute(
        f"""
        SELECT r.residence_la_code, r.site_code, count(*) AS deaths, count(*) OVER () AS pairs
        FROM report_facts AS r
        WHERE {" AND ".join(where)} AND r.residence_class = 'england'
        GROUP BY r.residence_la_code, r.site_code
        HAVING count(*) >= $least
        ORDER BY deaths DESC, r.residence_la_code, r.site_code
        LIMIT $limit
        """,
        params,
    ).fetchall()
    return [(area, site, int(deaths)) for area, site, deaths, _ in rows], int(rows[0][3]) if rows else 0


def hospital_sites(conn: duckdb.DuckDBPyConnection, scope: Scope) -> pl.DataFrame:
    """The scope's hospital sites (those its filter bar offers): where each is and its highest unit."""
    rows = conn.execute(
        f"""
        SELECT s.site_code, s.site_name, s.trust_code, t.trust_name, s.latitude, s.longitude,
               {HIGHEST_UNIT_SQL} AS highest_unit
        {SCOPE_SITES.replace("FROM ref_sites AS s", "FROM ref_sites AS s JOIN ref_trusts AS t USING (trust_code)")}
        ORDER BY s.site_name, s.site_code
        """,
        {"trusts": list(scope.trust_codes)},
    ).fetchall()
    schema = {
        "site_code": pl.String,
        "site_name": pl.String,
        "trust_code": pl.String,
        "trust_name": pl.String,
        "latitude": pl.Float64,
        "longitude": pl.Float64,
        "highest_unit": pl.String,
    }
    return pl.DataFrame(rows, schema=schema, orient="row")


def area_names(conn: duckdb.DuckDBPyConnection) -> dict[str, str]:
    """Every area of residence's name: local authorities, the other countries, abroad, not known."""
    names = dict(conn.execute("SELECT la_code, la_name FROM ref_local_authorities").fetchall())
    return {**names, **codes.NON_ENGLAND_RESIDENCE, codes.RESIDENCE_NOT_KNOWN: "Not known"}


def residence_table(conn: duckdb.DuckDBPyConnection, scope: Scope, filters: Filters) -> pl.DataFrame:
    """Deaths by area of residence (most first), for the map's table and CSV."""
    frame = counts(conn, scope, filters, ["residence_area", "residence_group"])
    names = area_names(conn)
    return (
        frame.with_columns(pl.col("residence_area").replace_strict(names, default="Not known").alias("area_name"))
        .select("residence_area", "area_name", "residence_group", "residence_group_label", "deaths")
        .sort(["deaths", "area_name"], descending=[True, False])
    )


def hospitals_table(conn: duckdb.DuckDBPyConnection, scope: Scope, filters: Filters) -> pl.DataFrame:
    """Deaths by hospital and where the children lived, with each hospital's trust, highest unit and
    position, for the map's CSV (one count a row, so that a copy for publication can hide small ones)."""
    frame = counts(conn, scope, filters, ["site", "residence_group"])
    sites = hospital_sites(conn, scope).with_columns(
        pl.col("highest_unit").replace_strict(codes.HIGHEST_UNITS).alias("highest_unit_label")
    )
    return (
        frame.select("site_code", "residence_group", "residence_group_label", "deaths")
        .join(sites, on="site_code", how="left")
        .select(
            "site_code",
            "site_name",
            "trust_code",
            "trust_name",
            "highest_unit",
            "highest_unit_label",
            "latitude",
            "longitude",
            "residence_group",
            "residence_group_label",
            "deaths",
        )
    )

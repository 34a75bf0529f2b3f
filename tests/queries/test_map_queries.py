"""The map's scoped queries: lines between areas and hospitals, and the tables beside the map."""

from __future__ import annotations

from queries import report
from queries.filters import Filters
from queries.scope import cdop_scope, england_scope
from tests.conftest import TODAY


def test_area_to_hospital_pairs_are_the_scopes_own_strongest_first_and_cut_in_sql(conn) -> None:
    scope = cdop_scope(conn, ["NCL"], TODAY)
    every, pairs = report.map.area_site_pairs(conn, scope, Filters(), 1, 100_000)
    assert pairs == len(every) > 10
    sites = set(report.hospital_sites(conn, scope)["site_code"])
    assert {site for _, site, _ in every} <= sites
    assert all(area.startswith("E") for area, _, _ in every)  # only English areas have a place on the map
    # the English-resident deaths, all of them, in the pairs
    residence = report.residence_table(conn, scope, Filters())
    english = sum(n for a, n in zip(residence["residence_area"], residence["deaths"], strict=True) if a.startswith("E"))
    assert sum(n for _, _, n in every) == english
    strongest, still = report.map.area_site_pairs(conn, scope, Filters(), 1, 3)
    assert strongest == every[:3] and still == pairs
    counts = [n for _, _, n in every]
    assert counts == sorted(counts, reverse=True)
    above, fewer = report.map.area_site_pairs(conn, scope, Filters(), 5, 100_000)
    assert above == [flow for flow in every if flow[2] >= 5] and fewer == len(above) < pairs


def test_the_map_counts_add_up_to_the_headline(conn) -> None:
    for scope in (cdop_scope(conn, ["LLR"], TODAY), england_scope(conn, TODAY)):
        filters = Filters(financial_years=(2024,))
        counted = report.map_counts(conn, scope, filters, 1, 10)
        deaths = int(report.headline(conn, scope, filters)["deaths"][0])
        for frame in (counted.places, counted.residence, counted.areas):
            assert int(frame["deaths"].sum()) == deaths
        assert len(counted.flows) == min(10, counted.pairs) and counted.pairs > 0


def test_the_residence_filter_narrows_the_pairs_too(conn) -> None:
    scope = cdop_scope(conn, ["NCL"], TODAY)
    elsewhere, _ = report.map.area_site_pairs(conn, scope, Filters(residence_groups=("england",)), 1, 100_000)
    assert elsewhere and not {area for area, _, _ in elsewhere} & set(scope.la_codes)

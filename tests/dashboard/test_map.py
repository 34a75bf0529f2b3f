"""The map page through Dash's HTTP endpoint: what a CDOP user's map holds (their own hospitals, their
footprint, and other areas only as the homes of children who died in their hospitals), the admin's all
England, the CSVs beside it, the area filter, the outline following a merger, and the payload's size."""

from __future__ import annotations

import csv
from dataclasses import replace
from datetime import date
from typing import Any

import brotli
import pytest

from dashboard.ui import ids
from footprints import changes as mapping_changes
from footprints import store as mapping_store
from queries import codes, report
from queries.filters import Filters
from queries.geography import geography
from queries.scope import Scope, cdop_scope, england_scope
from queries.store import open_readonly
from settings import Settings
from tests.conftest import make_app, signed_in
from tests.dash_client import OVERVIEW, DashClient

FIGURE = f"{ids.GEO_MAP}.figure"
PAYLOAD_BUDGET = 400_000  # bytes of the compressed callback answer, figure and all


def scope_of(settings: Settings, cdop: str | None) -> Scope:
    conn = open_readonly(settings.store_path)
    try:
        return england_scope(conn, date.today()) if cdop is None else cdop_scope(conn, [cdop], date.today())
    finally:
        conn.close()


def query(settings: Settings, scope: Scope, what: str, filters: Filters | None = None) -> Any:
    conn = open_readonly(settings.store_path)
    try:
        if what == "sites":
            return report.hospital_sites(conn, scope)
        return report.residence_table(conn, scope, filters or Filters())
    finally:
        conn.close()


def traces(figure: dict, test: Any) -> list[dict]:
    return [t for t in figure["data"] if test(t)]


def drawn_hospitals(figure: dict) -> dict[str, str]:
    """site code -> the trace (highest unit) it is drawn in."""
    return {
        code: t["name"]
        for t in traces(figure, lambda t: str(t.get("name", "")).startswith("Hospital"))
        for code in t["customdata"]
    }


def area_counts(figure: dict) -> dict[str, int]:
    """Each area marker's code and the count its hover text states."""
    (markers,) = traces(figure, lambda t: t.get("name") == "Areas of residence")
    counts = {}
    for code, text in zip(markers["customdata"], markers["text"], strict=True):
        counts[code] = int(text.split("<br>")[1].split(" death")[0].replace(",", ""))
    return counts


def polygon_points(figure: dict) -> int:
    return sum(len(t["x"]) for t in traces(figure, lambda t: t.get("fill") == "toself"))


def test_a_cdop_user_sees_only_their_own_hospitals_and_the_homes_of_children_who_died_in_them(
    llr: DashClient, demo_settings: Settings
) -> None:
    got = llr.outputs(FIGURE, {"url.search": ""})
    figure = got[FIGURE]
    scope = scope_of(demo_settings, "LLR")
    sites = query(demo_settings, scope, "sites")
    assert set(drawn_hospitals(figure)) == set(sites["site_code"]) and len(sites) >= 1
    assert set(sites["trust_code"]) <= set(scope.trust_codes)
    # the areas with a count are exactly where the children who died in these hospitals lived
    table = query(demo_settings, scope, "residence")
    english = {a: n for a, n in zip(table["residence_area"], table["deaths"], strict=True) if a.startswith("E")}
    assert area_counts(figure) == english
    assert set(english) - set(scope.la_codes), "the test store should have children from elsewhere"
    # polygons: the footprint's areas and those homes, no other area of England
    geo = geography()
    expected = set(scope.la_codes) | set(english)
    assert polygon_points(figure) == sum(len(geo.shapes([c])[0]) for c in expected)
    # the outline is the footprint's own
    (outline,) = traces(figure, lambda t: t.get("name") == "Footprint outline")
    assert (outline["x"], outline["y"]) == geo.outline(scope.la_codes)
    # every death is on the map or in the list beside it
    head = report.headline(open_readonly(demo_settings.store_path), scope, Filters())["deaths"][0]
    outside = sum(n for a, n in zip(table["residence_area"], table["deaths"], strict=True) if not a.startswith("E"))
    assert sum(english.values()) + outside == head
    listed = str(got[f"{ids.GEO_OUTSIDE}.children"])
    for code in codes.NON_ENGLAND_RESIDENCE:
        assert codes.NON_ENGLAND_RESIDENCE[code] in listed


def test_hospitals_are_sized_by_deaths_and_say_where_in_hospital_and_who_lived_elsewhere(dash_app) -> None:
    ncl = DashClient(signed_in(dash_app, "ncl"))  # six hospitals, from a children's hospital to a special care unit
    figure = ncl.outputs(FIGURE, {"url.search": "?fy=2024"})[FIGURE]
    hospital_traces = traces(figure, lambda t: str(t.get("name", "")).startswith("Hospital"))
    sizes, deaths = [], []
    for trace in hospital_traces:
        assert trace["type"] == "scatter" and trace["marker"]["symbol"]  # a symbol as well as a colour
        for text, size in zip(trace["text"], trace["marker"]["size"], strict=True):
            assert "Highest unit:" in text and "Non-residents:" in text and "by place in hospital" in text
            deaths.append(int(text.split("<br>")[3].split(" death")[0].replace(",", "")))
            sizes.append(size)
    ranked = [size for _, size in sorted(zip(deaths, sizes, strict=True))]
    assert ranked == sorted(ranked) and max(deaths) > min(deaths)


def test_the_line_threshold_is_kept_in_the_url_and_drops_the_thinner_lines(llr: DashClient) -> None:
    def lines(search: str) -> int:
        figure = llr.outputs(FIGURE, {"url.search": search})[FIGURE]
        return sum(t["x"].count(None) for t in traces(figure, lambda t: t.get("legendgroup") == "flows"))

    every, fewer = lines(""), lines("?lines=5")
    assert every > fewer > 0
    pressed = llr.outputs(FIGURE, {"url.search": "?lines=5"})
    assert pressed[f"{ids.GEO_LINES}-5.aria-pressed"] == "true"
    assert pressed[f"{ids.GEO_LINES}-1.aria-pressed"] == "false"
    # a threshold the page does not offer counts as the default (as an unknown grain does on Trends)
    forged = llr.outputs(FIGURE, {"url.search": "?lines=0"})
    assert forged[f"{ids.GEO_LINES}-1.aria-pressed"] == "true" and lines("?lines=0") == every
    choose = next(d for d in llr.dependencies if any(i["id"] == f"{ids.GEO_LINES}-1" for i in d["inputs"]))
    pressing = f"{ids.GEO_LINES}-10.n_clicks"
    body = llr.body(choose, {pressing: 1, "url.search": "?fy=2024"}, [pressing])
    answer = llr.client.post("/_dash-update-component", json=body).get_json()
    assert answer["response"]["url"]["search"] == "?lines=10&fy=2024"  # view settings first, as everywhere


def test_the_area_filter_narrows_every_view_and_drops_areas_the_footprint_has_no_deaths_from(
    llr: DashClient, demo_settings: Settings
) -> None:
    scope = scope_of(demo_settings, "LLR")
    table = query(demo_settings, scope, "residence")
    away = next(a for a in table["residence_area"] if a.startswith("E") and a not in scope.la_codes)
    figure = llr.outputs(FIGURE, {"url.search": f"?area={away}"})[FIGURE]
    assert set(area_counts(figure)) == {away}
    overview = llr.outputs(OVERVIEW, {"url.search": f"?area={away}"})
    assert "Area of residence:" in overview[f"{ids.FILTER_SUMMARY}.children"]
    # an area no child who died here lived in is not an option: dropped, the view stays whole
    conn = open_readonly(demo_settings.store_path)
    try:
        offered = {o.value for o in report.filter_options(conn, scope).residence_areas}
    finally:
        conn.close()
    never = next(c for c in geography().areas if c not in offered)
    forged = llr.outputs(FIGURE, {"url.search": f"?area={never}"})
    assert forged["url.search"] == ""
    assert set(area_counts(forged[FIGURE])) == {a for a in table["residence_area"] if a.startswith("E")}


@pytest.mark.parametrize("name", ["map-residence", "map-hospitals"])
def test_the_csvs_beside_the_map_count_what_it_draws(dash_app, llr: DashClient, name: str) -> None:
    figure = llr.outputs(FIGURE, {"url.search": "?fy=2023"})[FIGURE]
    response = signed_in(dash_app, "llr").get(f"/download/{name}.csv?fy=2023")
    assert response.status_code == 200
    rows = list(csv.DictReader(response.get_data(as_text=True).splitlines()))
    if name == "map-residence":
        english = {r["residence_area"]: int(r["deaths"]) for r in rows if r["residence_area"].startswith("E")}
        assert english == area_counts(figure)
    else:
        by_site: dict[str, int] = {}
        for row in rows:
            by_site[row["site_code"]] = by_site.get(row["site_code"], 0) + int(row["deaths"])
        assert set(by_site) <= set(drawn_hospitals(figure))
        assert {r["highest_unit"] for r in rows} <= set(codes.HIGHEST_UNITS)
    # the copy for publication hides every count of 1-4
    published = signed_in(dash_app, "llr").get(f"/download/{name}.csv?fy=2023&suppress=1").get_data(as_text=True)
    cells = [r["deaths"] for r in csv.DictReader(published.splitlines())]
    assert "[c]" in cells and not [c for c in cells if c in {"1", "2", "3", "4"}]


def test_an_administrator_sees_all_england_every_hospital_and_every_footprint(
    admin: DashClient, demo_settings: Settings
) -> None:
    figure = admin.outputs(FIGURE, {"url.search": ""})[FIGURE]
    scope = scope_of(demo_settings, None)
    assert set(drawn_hospitals(figure)) == set(query(demo_settings, scope, "sites")["site_code"])
    (borders,) = traces(figure, lambda t: t.get("name") == "CDOP footprints")
    assert borders["x"].count(None) > geography().coast()[0].count(None)  # inland borders between footprints
    # a footprint chosen by the chooser draws that footprint alone
    ncl = admin.outputs(FIGURE, {"url.search": "?footprint=NCL"})[FIGURE]
    (outline,) = traces(ncl, lambda t: t.get("name") == "Footprint outline")
    assert (outline["x"], outline["y"]) == geography().outline(scope_of(demo_settings, "NCL").la_codes)


@pytest.mark.parametrize("who", ["llr", "admin"])
def test_the_map_answer_is_under_400_kb_compressed(llr: DashClient, admin: DashClient, who: str) -> None:
    client = llr if who == "llr" else admin
    body = client.body(client.find(FIGURE), {"url.search": ""})
    response = client.client.post("/_dash-update-component", json=body, headers={"Accept-Encoding": "br"})
    assert response.headers["Content-Encoding"] == "br"
    assert len(response.get_data()) < PAYLOAD_BUDGET
    assert len(brotli.decompress(response.get_data())) > len(response.get_data())  # it was worth compressing


def test_a_merger_redraws_the_outline_on_its_day(own_settings: Settings) -> None:
    """The outline follows the mapping in force: LLR's alone today, LLR's and NHAM's from the merger's day."""
    day = date(2099, 4, 1)
    app = make_app(own_settings)
    engine = app.server.extensions["cdop"].engine
    conn = open_readonly(own_settings.store_path)
    try:
        managed = mapping_store.MappingSource(engine).current(conn)
        merged = mapping_changes.merge_cdops(managed, ["LLR", "NHAM"], "EMCD", "East Midlands CDOP", day, date.today())
        mapping_store.apply(
            engine, managed, merged, username="test", kind="merge", effective_from=day, reason="test", detail={}
        )
        llr_las, nham_las = (cdop_scope(conn, [c], date.today()).la_codes for c in ("LLR", "NHAM"))
    finally:
        conn.close()

    def outline(application: Any) -> tuple[list, list]:
        figure = DashClient(signed_in(application, "llr")).outputs(FIGURE, {"url.search": ""})[FIGURE]
        (line,) = traces(figure, lambda t: t.get("name") == "Footprint outline")
        return line["x"], line["y"]

    geo = geography()
    assert outline(app) == geo.outline(llr_las)
    assert outline(make_app(replace(own_settings, fixed_today=day))) == geo.outline({*llr_las, *nham_las})
    assert geo.outline({*llr_las, *nham_las}) != geo.outline(llr_las)

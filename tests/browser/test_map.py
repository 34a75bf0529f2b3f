"""The map in a real browser: a CDOP user's map holds only their own hospitals, shades the areas where
the children lived with the counts of the CSV beside it, a click on a hospital filters every view, no
request leaves the app, and axe finds nothing serious; an administrator's map is all England."""

from __future__ import annotations

import csv
from urllib.parse import parse_qs, urlparse

from queries import report
from queries.store import open_readonly
from tests.browser.conftest import LiveApp, Session, screenshot
from tests.browser.test_accessibility import describe, scan
from tests.browser.test_flows import assert_headline_matches, scope_of

READY = "#geo-chart .main-svg"
# what the map draws, read from the chart itself (plotly keeps its data on the graph's element)
DRAWN = """() => {
    const data = document.querySelector('#geo-chart .js-plotly-plot').data;
    const hospitals = data.filter(t => String(t.name || '').startsWith('Hospital'));
    const areas = data.find(t => t.name === 'Areas of residence');
    return {
        hospitals: hospitals.flatMap(t => t.customdata),
        areas: Object.fromEntries(areas.customdata.map((code, i) =>
            [code, Number(areas.text[i].split('<br>')[1].split(' death')[0].replace(/,/g, ''))])),
        filled: data.filter(t => t.fill === 'toself').length,
        types: [...new Set(data.map(t => t.type || 'scatter'))],
    };
}"""
# the page position of a hospital's marker, from plotly's own axes
WHERE = """code => {
    const gd = document.querySelector('#geo-chart .js-plotly-plot');
    const trace = gd.data.find(t => String(t.name || '').startsWith('Hospital') && t.customdata.includes(code));
    const i = trace.customdata.indexOf(code);
    const layout = gd._fullLayout, box = gd.getBoundingClientRect();
    return {
        x: box.left + layout._size.l + layout.xaxis.l2p(trace.x[i]),
        y: box.top + layout._size.t + layout.yaxis.l2p(trace.y[i]),
    };
}"""


def test_a_cdop_user_signs_in_sees_their_hospitals_and_where_the_children_lived_and_filters_by_one(
    session: Session, live: LiveApp
) -> None:
    requested: list[str] = []
    session.page.on("request", lambda request: requested.append(request.url))
    session.sign_in("ncl")
    session.goto("/map", READY)
    drawn = session.page.evaluate(DRAWN)
    scope = scope_of(live, "NCL")
    conn = open_readonly(live.settings.store_path)
    try:
        sites = report.hospital_sites(conn, scope)
    finally:
        conn.close()
    assert sorted(drawn["hospitals"]) == sorted(sites["site_code"])  # only its own hospitals
    assert drawn["types"] == ["scatter"] and drawn["filled"] >= 2
    # the areas are shaded with the counts of the CSV beside the map
    answer = session.page.request.get(f"{live.base}/download/map-residence.csv")
    assert answer.status == 200
    rows = list(csv.DictReader(answer.text().splitlines()))
    english = {r["residence_area"]: int(r["deaths"]) for r in rows if r["residence_area"].startswith("E")}
    assert drawn["areas"] == english and len(english) > len(scope.la_codes)
    screenshot(session.page, "map-cdop", "#geo-chart-title >> xpath=ancestor::section[1]")

    # a click on a hospital filters every view by it (the one standing furthest from the others: in
    # London's crowd, where markers overlap, the smaller marker under the pointer takes the click)
    session.page.locator("#geo-chart").scroll_into_view_if_needed()
    points = {code: session.page.evaluate(WHERE, code) for code in sites["site_code"]}
    chosen = max(points, key=lambda code: min(_apart(points[code], points[o]) for o in points if o != code))
    point = points[chosen]
    before = session.page.url
    session.page.mouse.click(point["x"], point["y"])
    session.page.wait_for_function("before => window.location.href !== before", arg=before)
    session.settle()
    assert parse_qs(urlparse(session.page.url).query)["site"] == [chosen]
    session.page.click("#nav-overview")
    session.page.wait_for_selector("#overview-trust .main-svg")
    session.settle()
    filters = assert_headline_matches(session, live, scope)
    assert filters.site_codes == (chosen,)
    name = sites.filter(sites["site_code"] == chosen)["site_name"][0]
    assert f"Hospital: {name}" in session.page.inner_text("#filter-summary")

    elsewhere = [url for url in requested if urlparse(url).netloc != urlparse(live.base).netloc]
    assert elsewhere == [] and [url for url in requested if "/_dash-update-component" in url]
    assert session.console_errors == []


def _apart(a: dict[str, float], b: dict[str, float]) -> float:
    return ((a["x"] - b["x"]) ** 2 + (a["y"] - b["y"]) ** 2) ** 0.5


def test_the_map_has_no_serious_accessibility_violation_and_keeps_a_threshold_in_the_url(session: Session) -> None:
    session.sign_in("ncl")
    session.goto("/map", READY)
    violations = scan(session, "map, CDOP user")
    assert violations == [], describe(violations)
    session.page.click("#geo-lines-5")
    session.page.wait_for_function("() => location.search.includes('lines=5')")
    session.settle()
    assert session.page.get_attribute("#geo-lines-5", "aria-pressed") == "true"


def test_an_administrator_sees_all_england(session: Session, live: LiveApp) -> None:
    session.sign_in("admin")
    session.goto("/map?lines=10", READY)
    drawn = session.page.evaluate(DRAWN)
    conn = open_readonly(live.settings.store_path)
    try:
        sites = report.hospital_sites(conn, scope_of(live, None))
    finally:
        conn.close()
    assert sorted(drawn["hospitals"]) == sorted(sites["site_code"])
    assert len(drawn["areas"]) > 140  # children from nearly every area of England
    assert "CDOP footprints" in session.page.inner_text("#geo-chart")
    screenshot(session.page, "map-england", "#geo-chart-title >> xpath=ancestor::section[1]")
    assert session.console_errors == []

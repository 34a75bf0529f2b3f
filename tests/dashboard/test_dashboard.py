"""The dashboard through its HTTP interface: login, every view's callbacks, the URL state."""

from __future__ import annotations

import json
import re
from datetime import date
from urllib.parse import quote

import duckdb
import pytest

from dashboard.ui import ids
from operational import accounts, audit
from queries import report
from queries.filters import Filters
from queries.scope import cdop_scope, england_scope
from tests.conftest import csrf_token, post_login, signed_in
from tests.dash_client import OVERVIEW, DashClient, split_outputs
from tests.dash_client import tiles as headline

TODAY = date.today()


# ------------------------------------------------------------------ signing in


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("get", "/_dash-layout"),
        ("get", "/_dash-dependencies"),
        ("post", "/_dash-update-component"),
        ("get", "/download/cases.csv"),
        ("get", "/download/by-trust.csv?fy=2024"),
        ("get", "/_reload-hash"),
    ],
)
def test_anonymous_requests_to_the_app_get_401(dash_app, method: str, path: str) -> None:
    client = dash_app.server.test_client()
    response = getattr(client, method)(path, json={} if method == "post" else None)
    assert response.status_code == 401
    assert "Traceback" not in response.get_data(as_text=True)


@pytest.mark.parametrize("path", ["/", "/trusts", "/cases?fy=2024", "/nowhere"])
def test_anonymous_pages_redirect_to_the_login_page(dash_app, path: str) -> None:
    response = dash_app.server.test_client().get(path)
    assert response.status_code == 302
    assert response.headers["Location"].startswith("/login?next=")


def test_the_login_page_and_assets_are_public_and_say_the_data_are_synthetic(dash_app) -> None:
    client = dash_app.server.test_client()
    page = client.get("/login")
    assert page.status_code == 200
    text = page.get_data(as_text=True)
    assert '<html lang="en">' in text and "Synthetic data" in text and 'name="username"' in text
    assert client.get("/assets/style.css").status_code == 200


def test_a_wrong_password_is_refused_the_same_way_as_an_unknown_user(dash_app) -> None:
    client = dash_app.server.test_client()
    client.environ_base["REMOTE_ADDR"] = "192.0.2.10"  # its own address: failures here throttle no one else
    wrong = post_login(client, "llr", "guess")
    unknown = post_login(client, "nobody", "guess")
    assert wrong.status_code == unknown.status_code == 401

    def without_token(text: str) -> str:
        return re.sub(r'name="csrf_token" value="[^"]+"', "", text)

    assert without_token(wrong.get_data(as_text=True)) == without_token(unknown.get_data(as_text=True))
    assert client.get("/_dash-layout").status_code == 401
    engine = dash_app.server.extensions["cdop"].engine
    failed = [e for e in audit.recent(engine, event="login_failed") if e["username"] in ("llr", "nobody")]
    assert len(failed) >= 2


def test_signing_in_goes_back_to_the_page_asked_for_but_never_off_site(dash_app) -> None:
    client = dash_app.server.test_client()
    back = post_login(client, "llr", "demo-llr", "?next=%2Ftrends%3Ffy%3D2024")
    assert back.headers["Location"] == "/trends?fy=2024"
    for target in ("//evil.example/x", "https://evil.example/", "/\\evil"):
        client = dash_app.server.test_client()
        response = post_login(client, "llr", "demo-llr", f"?next={quote(target, safe='')}")
        assert response.headers["Location"] == "/", target


def test_signing_out_ends_the_session(dash_app) -> None:
    client = signed_in(dash_app, "ncl")
    assert client.get("/_dash-layout").status_code == 200
    assert client.post("/logout", data={"csrf_token": csrf_token(client)}).status_code == 302
    assert client.get("/_dash-layout").status_code == 401


def test_disabling_a_user_ends_their_sessions(dash_app) -> None:
    engine = dash_app.server.extensions["cdop"].engine
    accounts.add_user(engine, "temp.user", "a long enough password", "cdop", ["KMED"])
    client = signed_in(dash_app, "temp.user", "a long enough password")
    assert client.get("/_dash-layout").status_code == 200
    accounts.set_active(engine, "temp.user", False)
    assert client.get("/_dash-layout").status_code == 401


def test_every_cdop_has_a_demo_user_and_the_header_says_who_is_signed_in(dash_app) -> None:
    engine = dash_app.server.extensions["cdop"].engine
    names = {u.username for u in accounts.list_users(engine) if u.demo}
    assert {"admin", "llr", "ncl", "candm", "kmed"} <= names
    assert "mers" not in names  # merged away: no demo user for a CDOP not in force
    layout = signed_in(dash_app, "kmed").get("/_dash-layout").get_data(as_text=True)
    assert "Signed in as " in layout and "kmed" in layout and "KMED" in layout
    assert "Synthetic data" in layout


# ------------------------------------------------------------------ views


def test_overview_numbers_equal_the_query_layer(llr: DashClient, conn: duckdb.DuckDBPyConnection) -> None:
    got = llr.outputs(OVERVIEW, {"url.search": "?fy=2023"})
    head = report.headline(conn, cdop_scope(conn, ["LLR"], TODAY), Filters(financial_years=(2023,))).row(0, named=True)
    tiles = headline(got, ids.OVERVIEW_HEADLINE)
    assert tiles["Deaths in hospitals in this footprint"] == f"{head['deaths']:,}"
    assert tiles["Residents of this footprint"] == f"{head['residents']:,}"
    assert tiles["Non-residents"] == f"{head['non_residents']:,}"
    assert tiles["Reviewed by another CDOP"] == f"{head['reviewed_by_another_cdop']:,}"
    assert tiles["Not yet assigned a reviewing CDOP"] == f"{head['not_yet_assigned']:,}"
    bars = got[f"{ids.OVERVIEW_AGE}.figure"]["data"][0]
    expected = report.by_age_group(conn, cdop_scope(conn, ["LLR"], TODAY), Filters(financial_years=(2023,)))
    assert bars["y"] == expected["deaths"].to_list()
    assert "2023/24" in got[f"{ids.part(ids.OVERVIEW_AGE, 'title')}.children"]


def test_admin_sees_all_england_and_can_switch_footprint(admin: DashClient, conn: duckdb.DuckDBPyConnection) -> None:
    everything = headline(admin.outputs(OVERVIEW, {"url.search": ""}), ids.OVERVIEW_HEADLINE)
    england = report.headline(conn, england_scope(conn, TODAY), Filters())["deaths"][0]
    assert everything["Deaths in hospitals in England"] == f"{england:,}"
    one = headline(admin.outputs(OVERVIEW, {"url.search": "?footprint=NCL"}), ids.OVERVIEW_HEADLINE)
    ncl = report.headline(conn, cdop_scope(conn, ["NCL"], TODAY), Filters())["deaths"][0]
    assert one["Deaths in hospitals in this footprint"] == f"{ncl:,}"


def test_the_url_sets_the_filters_and_foreign_values_are_dropped(llr: DashClient) -> None:
    got = llr.outputs(OVERVIEW, {"url.search": "?fy=2024&trust=RWE&trust=RBS&site=RBS25&place=nicu&x=1"})
    assert got["url.search"] == "?fy=2024&trust=RWE&place=nicu"  # canonical: the foreign trust and site are gone
    assert got[f"{ids.FILTER_TRUST}.value"] == ["RWE"]
    assert got[f"{ids.FILTER_SITE}.value"] == []
    assert [o["value"] for o in got[f"{ids.FILTER_TRUST}.options"]] == ["RWE"]
    assert all(o["value"].startswith("RWE") for o in got[f"{ids.FILTER_SITE}.options"])
    assert got[f"{ids.FOOTPRINT_BOX}.style"] == {"display": "none"}  # one footprint: no chooser
    assert "Neonatal intensive care unit" in got[f"{ids.FILTER_SUMMARY}.children"]


def bar_values(got: dict[str, object]) -> dict[str, object]:
    """What the browser's filter bar holds after applying a page's answer."""
    held = {key: value for key, value in got.items() if key.endswith(".value") or key == "url.search"}
    return {**held, f"{ids.FILTER_OPTIONS_KEY}.data": got[f"{ids.FILTER_OPTIONS_KEY}.data"]}


def test_a_change_made_in_the_bar_costs_only_the_page(llr: DashClient) -> None:
    """The browser already holds the values and options: the answer sets only the summary."""
    first = llr.outputs(OVERVIEW, {"url.search": "?fy=2024"})
    held = {**bar_values(first), "url.search": "?fy=2024&age=0-27d", f"{ids.FILTER_AGE}.value": ["0-27d"]}
    got = llr.outputs(OVERVIEW, held)
    outputs = {f"{o['id']}.{o['property']}" for o in split_outputs(llr.find(OVERVIEW)["output"])}
    # of the bar, only its summary (the page's own text is set beside the charts, where it changed)
    assert {key for key in set(got) - outputs if not key.startswith("overview-")} == {f"{ids.FILTER_SUMMARY}.children"}
    assert "0-27 days" in got[f"{ids.FILTER_SUMMARY}.children"]
    # values the bar holds that the URL does not have are put right, and a stale key brings the options
    stale = llr.outputs(OVERVIEW, {**held, f"{ids.FILTER_OPTIONS_KEY}.data": "old"})
    assert f"{ids.FILTER_TRUST}.options" in stale and f"{ids.FILTER_AGE}.value" not in stale
    wrong = llr.outputs(OVERVIEW, {**held, f"{ids.FILTER_AGE}.value": ["1-4y"]})
    assert wrong[f"{ids.FILTER_AGE}.value"] == ["0-27d"] and f"{ids.FILTER_TRUST}.options" not in wrong


def test_a_cdop_user_cannot_borrow_another_footprint(llr: DashClient) -> None:
    got = llr.outputs(OVERVIEW, {"url.search": "?footprint=NCL", f"{ids.FOOTPRINT}.value": "ENGLAND"})
    assert got["url.search"] == ""  # back to the user's one footprint, which URLs do not name
    assert got[f"{ids.FOOTPRINT}.value"] is None
    assert [o["value"] for o in got[f"{ids.FOOTPRINT}.options"]] == ["LLR"]
    assert "Leicester" in got[f"{ids.FILTER_SUMMARY}.children"]
    assert "North Central London" not in str(got)


def test_a_bar_click_is_a_filter_bar_change_in_the_browser_not_a_server_callback(llr: DashClient) -> None:
    """Overview and reviewing bars set the filter bar's control in the browser (one request per click, as a
    chosen filter); only the drill-down on the trusts page still asks the server, which cleans what it gets."""
    clicks = {
        i["id"]: bool(d.get("clientside_function"))
        for d in llr.dependencies
        for i in d["inputs"]
        if i["property"] == "clickData"
    }
    assert clicks == {
        ids.OVERVIEW_TRUST: True,
        ids.OVERVIEW_AGE: True,
        ids.OVERVIEW_PLACE: True,
        ids.REVIEW_BY_CDOP: True,
        ids.GEO_MAP: True,
        ids.DRILL_CHART: False,
    }
    # what a click may set: the filter controls its chart's bars stand for and the URL's query, nothing
    # else (not even another chart's controls: Dash would mark each as loading on every click)
    for chart, controls in (
        (ids.OVERVIEW_AGE, {ids.FILTER_AGE}),
        (ids.OVERVIEW_PLACE, {ids.FILTER_PLACE}),
        (ids.OVERVIEW_TRUST, {ids.FILTER_TRUST, ids.FILTER_SITE}),
    ):
        (bar_click,) = [d for d in llr.dependencies if any(i["id"] == chart for i in d["inputs"])]
        assert [i["id"] for i in bar_click["inputs"]] == [chart]
        assert {o.split("@")[0] for o in bar_click["output"].strip(".").split("...")} == {
            f"{ids.URL}.search",
            *(f"{control}.value" for control in controls),
        }
    map_click = next(d for d in llr.dependencies if any(i["id"] == ids.GEO_MAP for i in d["inputs"]))
    # a hospital sets the hospital filter (and empties the trust's); an area, where the children lived;
    # and the URL's query, written with them
    assert {o.split(".")[0].split("@")[0] for o in map_click["output"].strip(".").split("...")} == {
        ids.FILTER_SITE,
        ids.FILTER_TRUST,
        ids.FILTER_AREA,
        ids.FILTER_RESIDENCE,
        ids.URL,
    }


def test_trusts_view_drills_down_and_the_breadcrumb_goes_back(admin: DashClient) -> None:
    top = admin.outputs(ids.DRILL_CRUMBS, {"url.search": "?footprint=NCL"})
    assert "trust" in top[f"{ids.part(ids.DRILL_CHART, 'title')}.children"]
    drill = next(d for d in admin.dependencies if any(i["id"] == ids.DRILL_CHART for i in d["inputs"]))
    body = admin.body(
        drill, {f"{ids.DRILL_CHART}.clickData": {"points": [{"customdata": "RP4"}]}, "url.search": "?footprint=NCL"}
    )
    search = admin.client.post("/_dash-update-component", json=body).get_json()["response"]["url"]["search"]
    assert search == "?footprint=NCL&trust=RP4"
    sites = admin.outputs(ids.DRILL_CRUMBS, {"url.search": search})
    assert "hospital" in sites[f"{ids.part(ids.DRILL_CHART, 'title')}.children"]
    crumbs = json.dumps(sites[f"{ids.DRILL_CRUMBS}.children"])
    assert "All trusts" in crumbs and "Great Ormond Street" in crumbs and '"/trusts?footprint=NCL"' in crumbs


@pytest.mark.parametrize("grain", ["month", "quarter", "financial_year"])
@pytest.mark.parametrize("split", [None, "place", "age_group"])
def test_trends_by_every_grain_and_split(
    llr: DashClient, conn: duckdb.DuckDBPyConnection, grain: str, split: str | None
) -> None:
    search = f"?fy=2023&grain={grain}" + (f"&split={split}" if split else "")
    got = llr.outputs(ids.TREND_CHART + ".figure", {"url.search": search})
    figure = got[f"{ids.TREND_CHART}.figure"]
    total = sum(sum(trace["y"]) for trace in figure["data"])
    assert total == report.case_count(conn, cdop_scope(conn, ["LLR"], TODAY), Filters(financial_years=(2023,)))
    assert got[f"{ids.part(ids.TREND_CHART, 'download')}.href"].startswith("/download/trend.csv?")


def test_reviewing_view_lists_only_reviewers_of_our_deaths(llr: DashClient, conn: duckdb.DuckDBPyConnection) -> None:
    got = llr.outputs(ids.REVIEW_HEADLINE, {"url.search": ""})
    names = set(got[f"{ids.REVIEW_BY_CDOP}.figure"]["data"][0]["y"])
    expected = set(report.by_reviewing_cdop(conn, cdop_scope(conn, ["LLR"], TODAY), Filters())["reviewing_cdop_name"])
    assert names == expected


def test_case_grid_pages_sorts_and_filters_on_the_server(llr: DashClient, conn: duckdb.DuckDBPyConnection) -> None:
    scope = cdop_scope(conn, ["LLR"], TODAY)
    request = {
        "startRow": 0,
        "endRow": 100,
        "sortModel": [{"colId": "age_group", "sort": "asc"}],
        "filterModel": {
            "date_of_death": {
                "filterType": "date",
                "type": "inRange",
                "dateFrom": "2024-01-01 00:00:00",
                "dateTo": "2024-12-31 00:00:00",
            },
            "nope": {"filterType": "text", "type": "contains", "filter": "x"},
        },
    }
    got = llr.outputs(
        ids.CASES_GRID + ".getRowsResponse", {f"{ids.CASES_GRID}.getRowsRequest": request, "url.search": ""}
    )
    response = got[f"{ids.CASES_GRID}.getRowsResponse"]
    expected = report.case_count(conn, scope, Filters(date_from=date(2024, 1, 1), date_to=date(2024, 12, 31)))
    assert response["rowCount"] == expected
    assert all("2024-01-01" <= row["date_of_death"] <= "2024-12-31" for row in response["rowData"])
    assert {row["site_name"] for row in response["rowData"]} == {"Leicester Royal Infirmary"}
    assert "case_id" not in response["rowData"][0]


def test_about_view_says_the_data_are_synthetic_and_when(llr: DashClient) -> None:
    got = llr.outputs(ids.ABOUT_FACTS, {"url.search": ""})
    text = json.dumps(got)
    assert "SYNTHETIC" in text and "31 March 2026" in text


@pytest.mark.parametrize("path", ["/", "/trusts", "/reviewing", "/trends", "/cases", "/about", "/nowhere"])
def test_every_view_renders_for_a_signed_in_user(llr: DashClient, path: str) -> None:
    got = llr.outputs(f"{ids.MAIN}.children", {"url.pathname": path, "url.search": "?grain=month"})
    text = json.dumps(got[f"{ids.MAIN}.children"])
    assert ("Page not found" in text) == (path == "/nowhere")
    assert got[f"{ids.PAGE_TITLE}.data"].endswith("Deaths by hospital trust")

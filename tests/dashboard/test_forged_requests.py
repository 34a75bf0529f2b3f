"""Forged requests against every callback and download: a CDOP user must never
see a trust, hospital or count from outside their footprint, and nothing is a 500.

Other CDOPs may appear only as the reviewers of deaths in the user's own
hospitals. The callbacks are enumerated from /_dash-dependencies, so a new
callback is attacked without anyone having to remember to add it here.
"""

from __future__ import annotations

import csv
import io
import itertools
import json
import zipfile
from datetime import date
from typing import Any
from urllib.parse import urlencode

import openpyxl
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from dashboard import context
from dashboard.downloads import DOWNLOADS
from dashboard.ui import ids
from queries import report
from queries.filters import Filters
from queries.scope import cdop_scope
from queries.store import open_readonly
from settings import REFERENCE_DIR
from tests.conftest import signed_in
from tests.dash_client import OVERVIEW, DashClient
from tests.dash_client import tiles as headline

USER, CDOP = "llr", "LLR"


def reference(name: str) -> list[dict[str, str]]:
    with (REFERENCE_DIR / name).open(newline="", encoding="utf-8") as handle:
        return list(csv.DictReader(handle))


@pytest.fixture(scope="module")
def markers(demo_settings) -> dict[str, set[str]]:
    """Names and codes that must never reach this user."""
    conn = open_readonly(demo_settings.store_path)
    try:
        scope = cdop_scope(conn, [CDOP], date.today())
        reviewers = set(report.by_reviewing_cdop(conn, scope, Filters())["reviewing_cdop_code"])
    finally:
        conn.close()
    trusts = reference("trusts.csv")
    sites = [s for s in reference("sites.csv") if s["country"] == "England"]
    cdops = reference("cdops.csv")
    own_sites = {s["site_code"] for s in sites if s["trust_code"] in scope.trust_codes}
    return {
        "names": {
            t["trust_name"] for t in trusts if t["trust_code"] not in scope.trust_codes and t["country"] == "England"
        }
        | {
            s["site_name"]
            for s in sites
            if s["site_code"] not in own_sites
            and s["site_name"] not in {x["site_name"] for x in sites if x["site_code"] in own_sites}
        }
        | {c["cdop_name"] for c in cdops if c["cdop_code"] not in reviewers | {CDOP}},
        "codes": {f'"{t["trust_code"]}"' for t in trusts if t["trust_code"] not in scope.trust_codes}
        | {f'"{s["site_code"]}"' for s in sites if s["site_code"] not in own_sites},
    }


FOREIGN_TRUSTS = ["RBS", "RP4", "RJ1", "RTD"]
FOREIGN_SITES = ["RBS25", "RP401", "RJ122", "RTD02"]
FOREIGN_CDOPS = ["NCL", "ENGLAND", "ALL", "KMED", context.ENGLAND, context.ALL_MINE]
HUGE = "R" * 100_000
FORGED_SEARCHES = [
    "?trust=RBS&trust=RP4&site=RBS25&site=RP401",
    "?footprint=ENGLAND",
    "?since=2008-04-01&footprint=NCL&user_id=1&user=ncl",  # What's new: every arrival, another footprint, another user
    "?footprint=NCL&trust=RP4",
    "?footprint=ALL",
    "?reviewer=NCL&reviewer=KMED&residence=footprint",
    "?trust=RWE'%20OR%201%3D1--&site=x%22%3B%20DROP%20TABLE%20deaths",
    "?fy=2024&fy=%27%20OR%201%3D1&from=1900-01-01&to=9999-99-99",
    "?" + "&".join(f"trust={c}" for c in FOREIGN_TRUSTS * 50),
    "?grain=week&split=trust_code;DROP",
    # the map: another footprint's hospital, areas no death in this footprint came from, a made-up threshold
    "?site=RP401&area=E09000007&area=E09000019&area=E99999999&lines=0&lines=-1%3B--",
    # the Reviews page: a window and a breakdown it does not offer, and areas other footprints' children came from
    "?window=7&window=5&by=trust_code;DROP&by=site",
    "?window=1&by=reviewing_cdop&area=E09000007&area=E06000016&reviewer=NCL",
    HUGE,
    "not a query string at all",
]
FORGED_VALUES: list[Any] = [
    FOREIGN_TRUSTS,
    FOREIGN_SITES,
    FOREIGN_CDOPS,
    ["RWE", *FOREIGN_TRUSTS],
    "RBS",
    "' OR 1=1 --",
    HUGE,
    [HUGE],
    12345,
    -1,
    True,
    None,
    {"trust": "RBS"},
    [{"$ne": 1}],
    {"points": [{"customdata": "RBS"}]},
    {"points": [{"customdata": ["RP4"]}, {"customdata": "RJ1"}]},
    {"points": "RBS"},
    {
        "startRow": 0,
        "endRow": 10**9,
        "sortModel": [{"colId": "case_id; DROP TABLE deaths", "sort": "asc"}],
        "filterModel": {
            "trust_name": {"filterType": "text", "type": "contains", "filter": "Ormond"},
            "site_code": {"filterType": "text", "type": "equals", "filter": "RP401"},
            "date_of_death": {"filterType": "date", "type": "inRange", "dateFrom": "x", "dateTo": None},
        },
    },
    {"startRow": "0", "endRow": [], "sortModel": "desc", "filterModel": ["x"]},
    "2024-99-99",
]


def leaked(text: str, markers: dict[str, set[str]]) -> list[str]:
    return [m for m in markers["names"] if m in text] + [c for c in markers["codes"] if c in text]


@pytest.fixture(scope="module")
def client(dash_app) -> DashClient:
    return DashClient(signed_in(dash_app, USER))


def server_callbacks(client: DashClient) -> list[dict[str, Any]]:
    return [d for d in client.dependencies if not d.get("clientside_function")]


def test_the_attack_covers_every_server_callback(client: DashClient) -> None:
    callbacks = server_callbacks(client)
    assert len(callbacks) >= 12
    inputs = {f"{i['id']}.{i['property']}" for d in callbacks for i in d["inputs"]}
    assert {"url.search", "url.pathname", "cases-grid.getRowsRequest", "drill-chart.clickData"} <= inputs
    assert {"geo-lines-1.n_clicks", "geo-lines-20.n_clicks"} <= inputs  # the map's threshold
    assert "cases-grid-ready.data" in inputs  # the case list's "AG Grid's code has run" (dashboard/ui/grid_code)
    assert {"whatsnew-mark.n_clicks", "whatsnew-date-go.n_clicks", "seen-mark.data"} <= inputs  # What's new
    states = {f"{s['id']}.{s['property']}" for d in callbacks for s in d.get("state", [])}
    assert {"whatsnew-as-of.data", "whatsnew-date.value"} <= states


def forged_bodies(client: DashClient) -> list[tuple[str, dict[str, Any]]]:
    bodies = []
    for dependency in server_callbacks(client):
        slots = [f"{i['id']}.{i['property']}" for i in (*dependency["inputs"], *dependency.get("state", []))]
        for slot, value in itertools.product(slots, FORGED_VALUES + FORGED_SEARCHES):
            values = {s: "?trust=RBS&site=RP401&footprint=NCL" for s in slots if s == "url.search"}
            values[slot] = value
            if slot == "url.pathname" and not isinstance(value, str):
                values[slot] = "/"
            bodies.append(
                (
                    f"{dependency['output'][:60]} <- {slot}={str(value)[:40]}",
                    client.body(dependency, values, changed=[slot]),
                )
            )
    return bodies


def test_forged_callback_requests_never_leak_and_never_fail_with_500(
    client: DashClient, markers: dict[str, set[str]]
) -> None:
    bodies = forged_bodies(client)
    print(f"{len(bodies)} forged callback requests")
    assert len(bodies) >= 1000
    statuses: dict[int, int] = {}
    for label, body in bodies:
        response = client.client.post("/_dash-update-component", json=body)
        statuses[response.status_code] = statuses.get(response.status_code, 0) + 1
        text = response.get_data(as_text=True)
        assert response.status_code in (200, 204, 400), (label, response.status_code, text[:200])
        assert "Traceback" not in text, label
        assert leaked(text, markers) == [], (label, leaked(text, markers)[:5])
    assert statuses.get(200, 0) > len(bodies) / 2  # most forged values are simply dropped, not refused


@pytest.mark.parametrize(
    "body",
    [
        {},
        {"output": "no.such..callback"},
        {"output": "url.search", "inputs": "x"},
        {"output": "..main.children...page-title.data..", "inputs": [{"id": "url"}], "state": None},
        [1, 2, 3],
        # pattern-matching ids naming other footprints' rows (the app has none: Dash must refuse them)
        {
            "output": "..main.children...page-title.data..",
            "outputs": [{"id": {"type": "trust", "index": "RBS"}, "property": "children"}],
            "inputs": [{"id": {"type": "trust", "index": ["ALL"]}, "property": "value", "value": ["RBS", "RP4"]}],
        },
        {"output": '{"index":"RP4","type":"site"}.children', "inputs": [], "state": []},
    ],
)
def test_malformed_callback_requests_are_refused_without_a_500(client: DashClient, body: Any) -> None:
    response = client.client.post("/_dash-update-component", data=json.dumps(body), content_type="application/json")
    assert response.status_code == 400
    assert "Traceback" not in response.get_data(as_text=True)


def test_oversized_bodies_are_refused(client: DashClient) -> None:
    response = client.client.post("/_dash-update-component", data="x" * 2_000_000, content_type="application/json")
    assert response.status_code == 413


@pytest.mark.parametrize("name", DOWNLOADS)
@pytest.mark.parametrize("search", FORGED_SEARCHES[:11])  # all but the oversized and the malformed
def test_forged_download_queries_stay_in_the_footprint(
    dash_app, markers: dict[str, set[str]], name: str, search: str
) -> None:
    response = signed_in(dash_app, USER).get(f"/download/{name}.csv{search}")
    assert response.status_code == 200
    assert leaked(response.get_data(as_text=True), markers) == []


# the chooser's own values for all England and all of a user's CDOPs, their
# former values (old bookmarks), and another CDOP
FOOTPRINT_FORGERIES = [context.ENGLAND, context.ALL_MINE, "ENGLAND", "ALL", "england", "NCL"]


@pytest.mark.parametrize("value", FOOTPRINT_FORGERIES)
def test_a_cdop_user_asking_for_any_other_footprint_gets_their_own(dash_app, client: DashClient, value: str) -> None:
    conn = open_readonly(dash_app.server.extensions["cdop"].settings.store_path)
    try:
        scope = cdop_scope(conn, [CDOP], date.today())
        own = report.headline(conn, scope, Filters())["deaths"][0]
    finally:
        conn.close()
    search = "?" + urlencode({"footprint": value})
    got = client.outputs(OVERVIEW, {"url.search": search, f"{ids.FOOTPRINT}.value": value})
    tiles = headline(got, ids.OVERVIEW_HEADLINE)
    assert tiles.get("Deaths in hospitals in this footprint") == f"{own:,}", (value, tiles)
    assert got["url.search"] == ""  # back to the user's one footprint
    assert [o["value"] for o in got[f"{ids.FOOTPRINT}.options"]] == [CDOP]
    response = signed_in(dash_app, USER).get(f"/download/by-trust.csv{search}")
    assert response.status_code == 200
    assert response.headers["Content-Disposition"].startswith(f'attachment; filename="{CDOP}_')
    rows = list(csv.DictReader(response.get_data(as_text=True).splitlines()))
    assert rows and {row["trust_code"] for row in rows} <= set(scope.trust_codes)


def test_the_leak_detector_would_see_a_leak(dash_app, markers: dict[str, set[str]]) -> None:
    """A positive control: all-England data does contain what the LLR user must not see."""
    assert len(markers["names"]) > 150 and len(markers["codes"]) > 150
    england = signed_in(dash_app, "admin", "admin-demo").get("/download/by-site.csv").get_data(as_text=True)
    quoted = england.replace(",", '","')  # codes appear quoted in JSON; make the CSV comparable
    assert len(leaked(england, markers)) > 50 and leaked(f'"{quoted}"', markers)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    search=st.one_of(
        st.text(max_size=300),
        st.lists(
            st.tuples(
                st.sampled_from(
                    [
                        "fy",
                        "trust",
                        "site",
                        "place",
                        "age",
                        "reviewer",
                        "residence",
                        "status",
                        "from",
                        "to",
                        "footprint",
                        "grain",
                        "split",
                        "suppress",
                        "since",
                        "area",
                        "lines",
                        "user_id",
                        "zz",
                    ]
                ),
                st.one_of(
                    st.sampled_from(FOREIGN_TRUSTS + FOREIGN_SITES + FOREIGN_CDOPS + ["RWE", "2024"]),
                    st.text(max_size=30),
                ),
            ),
            max_size=12,
        ).map(lambda pairs: "?" + urlencode(pairs)),
    )
)
def test_fuzzed_query_strings_never_fail_or_leak(client: DashClient, markers: dict[str, set[str]], search: str) -> None:
    outputs = (
        OVERVIEW,
        "review-headline-0-value.children",
        "about-facts.children",
        "geo-chart.figure",
    )
    for output in (*outputs, "whatsnew-summary.children", "nav-whatsnew.children"):
        response = client.call(output, {"url.search": search}, changed=["url.search"])
        assert response.status_code in (200, 204), (search, response.status_code)
        assert leaked(response.get_data(as_text=True), markers) == []


# ------------------------------------------------------------------ the panel pack (dashboard.pack)


def pack_texts(data: bytes) -> tuple[list[str], str]:
    """Every cell of every sheet of a pack as text, and the whole workbook's XML (chart titles, names)."""
    book = openpyxl.load_workbook(io.BytesIO(data))
    cells = [str(value) for sheet in book.worksheets for row in sheet.iter_rows(values_only=True) for value in row]
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        xml = "".join(archive.read(name).decode("utf-8") for name in archive.namelist())
    return [c for c in cells if c != "None"], xml


def pack_leaks(data: bytes, markers: dict[str, set[str]]) -> list[str]:
    cells, xml = pack_texts(data)
    codes = {code.strip('"') for code in markers["codes"]}
    return [c for c in cells if c in codes] + [n for n in markers["names"] if n in xml or any(n in c for c in cells)]


@pytest.mark.parametrize("search", FORGED_SEARCHES[:11])
@pytest.mark.parametrize("extra", ["pages=all", "pages=all&suppress=1", "page=/map&suppress=1"])
def test_packs_made_with_foreign_trusts_sites_and_footprints_hold_nothing_outside_the_footprint(
    dash_app, markers: dict[str, set[str]], search: str, extra: str
) -> None:
    response = signed_in(dash_app, USER).get(f"/download/pack.xlsx{search}{'&' if search else '?'}{extra}")
    assert response.status_code == 200, response.get_data(as_text=True)[:200]
    cells, _ = pack_texts(response.data)
    assert "Leicester, Leicestershire and Rutland CDOP" in cells and len(cells) > 20
    assert pack_leaks(response.data, markers) == []


def test_the_pack_leak_detector_would_see_a_leak(dash_app, markers: dict[str, set[str]]) -> None:
    """A positive control: an administrator's pack of all England holds what the LLR user must not see."""
    england = signed_in(dash_app, "admin", "admin-demo").get("/download/pack.xlsx?pages=all").data
    assert len(pack_leaks(england, markers)) > 100


@pytest.mark.parametrize("search", [FORGED_SEARCHES[-2][:5000], FORGED_SEARCHES[-1], "?page=%00&pages=all%00"])
def test_malformed_pack_requests_never_fail_with_a_500(dash_app, search: str) -> None:
    response = signed_in(dash_app, USER).get(f"/download/pack.xlsx{search}")
    assert response.status_code in (200, 400, 404, 414), response.status_code

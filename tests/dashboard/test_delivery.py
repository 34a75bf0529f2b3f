"""How the app's bytes reach the browser (``dashboard.delivery``): compressed with brotli or
gzip, cached for a year only where the URL is fingerprinted, and charts drawn by the vendored
plotly.js partial bundle, which must hold every trace type the app draws."""

from __future__ import annotations

import gzip
import re

import brotli
import pytest
from flask.testing import FlaskClient

from dashboard import delivery
from dashboard.delivery import COMPRESSION, IMMUTABLE
from dashboard.ui import grid_code, ids
from dashboard.views import trends
from queries import report
from tests.dash_client import OVERVIEW, DashClient
from tests.plotly_bundle import (
    FULL_BUNDLE,
    bundle,
    bundle_trace_types,
    bundle_url_part,
    bundle_version,
    pinned_version,
    trace_types,
)

DECODE = {"br": brotli.decompress, "gzip": gzip.decompress}
BROWSER = "gzip, deflate, br, zstd"  # what Chromium offers


@pytest.fixture(scope="module")
def page_html(llr: DashClient) -> str:
    return llr.client.get("/").get_data(as_text=True)


def script_urls(html: str) -> list[str]:
    return re.findall(r'<script[^>]*src="([^"]+)"', html)


def url_of(html: str, part: str) -> str:
    found = [url for url in re.findall(r'(?:src|href)="([^"]+)"', html) if part in url]
    assert len(found) == 1, (part, found)
    return found[0].replace("&amp;", "&")


def fetch(client: FlaskClient, url: str, encoding: str | None, **kwargs):
    headers = {"Accept-Encoding": encoding} if encoding else {}
    return client.get(url, headers=headers, **kwargs)


def body(response) -> bytes:
    data = response.get_data()
    encoding = response.headers.get("Content-Encoding")
    return DECODE[encoding](data) if encoding else data


# ------------------------------------------------------------------ compression


@pytest.mark.parametrize(
    ("offered", "chosen"), [("br", "br"), ("gzip", "gzip"), (BROWSER, "br"), ("deflate", None), (None, None)]
)
@pytest.mark.parametrize("part", ["dash_renderer", "dash_ag_grid", "/assets/style.css", bundle_url_part()])
def test_scripts_and_styles_are_compressed_brotli_first_then_gzip(
    llr: DashClient, page_html: str, part: str, offered: str | None, chosen: str | None
) -> None:
    # AG Grid's code is not in the page: the case list fetches it from the address it is handed
    url = grid_code.address() if part == "dash_ag_grid" else url_of(page_html, part)
    plain = fetch(llr.client, url, None)
    response = fetch(llr.client, url, offered)
    assert response.status_code == 200
    assert response.headers.get("Content-Encoding") == chosen
    assert "Accept-Encoding" in response.headers["Vary"]
    assert body(response) == plain.get_data()
    if chosen:
        assert len(response.get_data()) < len(plain.get_data()) / 2.5


def test_the_plotly_bundle_is_sent_under_a_third_of_its_size(llr: DashClient, page_html: str) -> None:
    """Flask sends a file as a stream; flask-compress compresses it as one, then (for the assets
    endpoint, so that revalidation can answer 304) holds the compressed file to know its length."""
    response = fetch(llr.client, url_of(page_html, bundle_url_part()), "br", buffered=False)
    data = b"".join(response.response)
    response.close()
    assert response.headers["Content-Length"] == str(len(data))
    assert len(data) < bundle().stat().st_size / 3
    assert brotli.decompress(data) == bundle().read_bytes()


@pytest.mark.parametrize("offered", ["br", "gzip"])
def test_callback_answers_and_dash_json_are_compressed(admin: DashClient, offered: str) -> None:
    for path in ("/_dash-layout", "/_dash-dependencies"):
        response = fetch(admin.client, path, offered)
        assert response.headers.get("Content-Encoding") == offered, path
        assert body(response) == admin.client.get(path).get_data()
    request = admin.body(admin.find(ids.REVIEW_HEADLINE), {"url.search": ""})
    plain = admin.client.post("/_dash-update-component", json=request)
    squeezed = admin.client.post("/_dash-update-component", json=request, headers={"Accept-Encoding": offered})
    assert squeezed.headers["Content-Encoding"] == offered
    assert len(squeezed.get_data()) < len(plain.get_data()) / 5
    assert body(squeezed) == plain.get_data()


def test_html_pages_are_never_compressed(llr: DashClient) -> None:
    """BREACH: the sign-in page holds a CSRF token beside ``next``, which an attacker chooses."""
    anonymous = llr.client.application.test_client()
    for client, path in ((anonymous, "/login?next=/trusts"), (llr.client, "/"), (llr.client, "/trusts")):
        response = fetch(client, path, BROWSER)
        assert response.status_code == 200 and response.mimetype == "text/html", path
        assert "Content-Encoding" not in response.headers, path
    assert "text/html" not in COMPRESSION["COMPRESS_MIMETYPES"]


def test_small_answers_are_sent_as_they_are(llr: DashClient) -> None:
    response = fetch(llr.client, "/healthz", "br")
    assert response.status_code == 200 and "Content-Encoding" not in response.headers


def test_csv_tables_are_compressed(admin: DashClient) -> None:
    plain = admin.client.get("/download/by-trust-and-place.csv")
    response = fetch(admin.client, "/download/by-trust-and-place.csv", "br")
    assert response.headers["Content-Encoding"] == "br" and response.headers["Cache-Control"] == "no-store"
    assert body(response) == plain.get_data()


@pytest.mark.parametrize("offered", ["br", "gzip"])
def test_the_case_list_stays_streamed_when_compressed(
    admin: DashClient, monkeypatch: pytest.MonkeyPatch, offered: str
) -> None:
    """flask-compress compresses a stream chunk by chunk: the first compressed bytes leave
    while the case list is still being read, and nothing holds the whole list. The list is
    read several times over, so that it outgrows what brotli holds back (twice its window)."""
    plain = admin.client.get("/download/cases.csv?footprint=england").get_data()
    real = report.iter_cases
    produced: list[int] = []

    def long_list(*args, **kwargs):
        for _ in range(8):
            for batch in real(*args, **{**kwargs, "batch_rows": 500}):
                produced.append(batch.height)
                yield batch

    monkeypatch.setattr(report, "iter_cases", long_list)
    response = fetch(admin.client, "/download/cases.csv?footprint=england", offered, buffered=False)
    assert response.headers["Content-Encoding"] == offered
    assert "Content-Length" not in response.headers and response.is_streamed
    seen_at = []  # how many batches had been read when each compressed chunk left
    chunks = []
    for chunk in response.response:
        if chunk:
            seen_at.append(len(produced))
            chunks.append(chunk)
    response.close()
    batches = len(produced)
    assert len(chunks) >= 3, seen_at
    assert seen_at[0] < batches / 2, f"the first compressed bytes waited for {seen_at[0]} of {batches} batches"
    csv = DECODE[offered](b"".join(chunks))
    header, _, rows = plain.partition(b"\n")
    assert csv.startswith(plain) and csv.count(b"\n") == 1 + 8 * rows.count(b"\n")
    assert csv.count(header) == 1


def test_a_fingerprinted_file_is_compressed_once_per_process_and_nothing_else_is(
    llr: DashClient, page_html: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    compressed: list[str] = []
    monkeypatch.setattr(llr.client.application.extensions["compressed_files"], "_bodies", {})  # a fresh process
    real = delivery.compress
    monkeypatch.setattr(delivery, "compress", lambda data, how: compressed.append(how) or real(data, how))
    for part in (bundle_url_part(), "dash_renderer", "/assets/style.css"):
        url = url_of(page_html, part)
        for encoding in ("br", "gzip"):
            first = fetch(llr.client, url, encoding)
            done = len(compressed)
            again = [fetch(llr.client, url, encoding) for _ in range(3)]
            assert len(compressed) == done, "compressed again"
            assert {r.get_data() for r in again} == {first.get_data()}
            assert all(r.headers["Content-Encoding"] == encoding for r in [first, *again])
            plain = fetch(llr.client, url, None)
            assert body(first) == plain.get_data()
            assert first.headers["Content-Length"] == str(len(first.get_data()))
            if "ETag" in plain.headers:  # Flask tags the files of assets/, Dash not its own
                assert first.headers["ETag"] == plain.headers["ETag"][:-1] + f':{encoding}"'
    assert compressed == ["br", "gzip"] * 3  # once each
    done = len(compressed)
    # unfingerprinted files and every answer still go through flask-compress, each time
    for url in ("/assets/style.css", "/assets/style.css?m=1", "/_dash-layout", "/_dash-dependencies"):
        assert fetch(llr.client, url, "br").headers["Content-Encoding"] == "br", url
    request = llr.body(llr.find(OVERVIEW), {"url.search": ""})
    answer = llr.client.post("/_dash-update-component", json=request, headers={"Accept-Encoding": "br"})
    assert answer.headers["Content-Encoding"] == "br"
    assert len(compressed) == done


# ------------------------------------------------------------------ caching


def test_fingerprinted_files_are_cached_for_a_year_and_never_revalidated(llr: DashClient, page_html: str) -> None:
    urls = [url for url in script_urls(page_html) if "?m=" in url or re.search(r"\.v[\w-]+m\d+\.", url)]
    assert any("/_dash-component-suites/" in url for url in urls) and any("/assets/" in url for url in urls)
    assert url_of(page_html, bundle_url_part()) in urls
    for url in [*urls, url_of(page_html, "/assets/style.css"), url_of(page_html, "_favicon.ico")]:
        response = llr.client.get(url)
        assert response.status_code == 200, url
        assert response.headers["Cache-Control"] == IMMUTABLE, url


def test_the_sign_in_page_links_the_same_fingerprinted_files_as_the_app(llr: DashClient, page_html: str) -> None:
    """So the browser reuses them after signing in, and asks for no /favicon.ico (which is a page)."""
    login = llr.client.application.test_client().get("/login").get_data(as_text=True)
    for part in ("/assets/style.css", "_favicon.ico"):
        assert url_of(login, part) == url_of(page_html, part)
        assert llr.client.get(url_of(login, part)).headers["Cache-Control"] == IMMUTABLE


def test_files_without_their_fingerprint_are_revalidated(llr: DashClient, page_html: str) -> None:
    renderer = url_of(page_html, "dash_renderer")
    stamp = url_of(page_html, "/assets/style.css").split("?m=")[1]
    for url in (
        "/assets/style.css",
        "/assets/style.css?m=1",  # a made-up or stale fingerprint promises nothing
        f"/assets/style.css?m={stamp}0",
        "/_dash-component-suites/dash/dcc/async-graph.js",  # loaded by dcc itself, unversioned
        re.sub(r"\.v[\w-]+m\d+\.", ".", renderer),
        "/_favicon.ico",
    ):
        response = llr.client.get(url)
        assert response.status_code == 200, url
        assert response.headers["Cache-Control"] == "no-cache", url


def test_revalidating_a_compressed_asset_gets_a_304(llr: DashClient) -> None:
    for url in ("/assets/style.css", "/_dash-component-suites/dash/dcc/async-graph.js"):
        first = fetch(llr.client, url, "br")
        assert first.headers["Content-Encoding"] == "br" and first.headers["ETag"].endswith(':br"'), url
        again = llr.client.get(url, headers={"Accept-Encoding": "br", "If-None-Match": first.headers["ETag"]})
        assert again.status_code == 304, url


def test_pages_and_answers_are_never_stored(llr: DashClient) -> None:
    for path in ("/", "/trusts", "/_dash-layout", "/_dash-dependencies"):
        assert llr.client.get(path).headers["Cache-Control"] == "no-store", path
    answer = llr.call(OVERVIEW, {"url.search": ""})
    assert answer.status_code == 200 and answer.headers["Cache-Control"] == "no-store"
    anonymous = llr.client.application.test_client()
    assert anonymous.get("/login").headers["Cache-Control"] == "no-store"
    for path in ("/download/cases.csv", "/download/by-trust.csv", "/healthz"):
        assert llr.client.get(path).headers["Cache-Control"] == "no-store", path


# ------------------------------------------------------------------ the plotly.js bundle


def test_the_bundle_is_the_plotly_js_of_the_pinned_plotly() -> None:
    """A plotly upgrade must bring its own partial bundle (assets/vendor/README.md says how)."""
    assert bundle_version() == pinned_version()
    assert bundle().name == f"plotly-cartesian-{pinned_version()}.min.js"
    assert (bundle().parent / "plotly.js-LICENSE.txt").read_text().startswith("MIT License")


def test_the_page_loads_the_partial_bundle_before_the_renderer_and_never_the_full_one(page_html: str) -> None:
    scripts = script_urls(page_html)
    ours = [i for i, url in enumerate(scripts) if bundle_url_part() in url]
    renderer = [i for i, url in enumerate(scripts) if "dash_renderer" in url]
    assert len(ours) == 1 and len(renderer) == 1 and ours[0] < renderer[0], scripts
    assert not [url for url in scripts if FULL_BUNDLE.search(url)]
    assert all(url.startswith("/") and not url.startswith("//") for url in scripts), scripts


def test_the_early_scripts_run_once_before_dash_s_polyfill_and_are_cached_for_a_year(
    llr: DashClient, page_html: str
) -> None:
    """assets/early/ is linked ahead of every script Dash writes (the polyfill first), fingerprinted, and
    not again among Dash's own assets."""
    scripts = script_urls(page_html)
    polyfill = [i for i, url in enumerate(scripts) if "polyfill" in url]
    for name in delivery.EARLY_SCRIPTS:
        at = [i for i, url in enumerate(scripts) if f"/assets/{name}?m=" in url]
        assert len(at) == 1 and len(polyfill) == 1 and at[0] < polyfill[0], scripts
        response = llr.client.get(scripts[at[0]])
        assert response.status_code == 200 and response.headers["Cache-Control"] == IMMUTABLE
    assert sum(f"/assets/{delivery.EARLY_FOLDER}/" in url for url in scripts) == len(delivery.EARLY_SCRIPTS)


def figures_of(client: DashClient, dependency: dict, search: str) -> dict[str, dict]:
    answer = client.outputs(dependency["output"], {"url.search": search})
    return {key: value for key, value in answer.items() if key.endswith(".figure")}


def drill_searches(admin: DashClient) -> list[str]:
    """The trusts page at every level, drilled as a click does: trust, hospital, place, age group."""
    drill_click = next(d for d in admin.dependencies if any(i["id"] == ids.DRILL_CHART for i in d["inputs"]))
    chart = admin.find(f"{ids.DRILL_CHART}.figure")
    searches = ["?footprint=NCL"]
    for _ in range(3):
        figure = figures_of(admin, chart, searches[-1])[f"{ids.DRILL_CHART}.figure"]
        point = {"customdata": figure["data"][0]["customdata"][-1]}
        click = admin.body(
            drill_click, {f"{ids.DRILL_CHART}.clickData": {"points": [point]}, "url.search": searches[-1]}
        )
        searches.append(
            admin.client.post("/_dash-update-component", json=click).get_json()["response"]["url"]["search"]
        )
    return searches


def test_every_trace_type_the_app_draws_is_in_the_bundle(llr: DashClient, admin: DashClient) -> None:
    """Every callback that answers a chart's figure, for a CDOP user and for all England, on
    every page's states (each trends grain and split, each drill level): a trace type the
    bundle lacks (a map, 3D, WebGL) fails here rather than leaving a blank chart."""
    figure_callbacks = [d for d in llr.dependencies if ".figure" in d["output"]]
    assert figure_callbacks
    searches = ["", "?fy=2023"] + [f"?grain={g}&split={s}" for g in trends.GRAINS for s in trends.SPLITS]
    used: dict[str, set[str]] = {}
    for dependency in figure_callbacks:
        for client, extra in ((llr, []), (admin, drill_searches(admin))):
            for search in searches + extra:
                for name, figure in figures_of(client, dependency, search).items():
                    for kind in trace_types(figure):
                        used.setdefault(kind, set()).add(name)
    drawn = {name for names in used.values() for name in names}
    every_chart = {out for d in figure_callbacks for out in re.findall(r"[\w-]+\.figure", d["output"])}
    assert drawn == every_chart, f"charts that drew no trace in this walk: {every_chart - drawn}"
    missing = {kind: sorted(names) for kind, names in used.items() if kind not in bundle_trace_types()}
    assert not missing, f"trace types the plotly.js bundle lacks, by chart: {missing}"


def test_the_page_preloads_what_dash_fetches_first_and_each_answers(llr: DashClient, page_html: str) -> None:
    head = page_html.split("</head>")[0]
    preloaded = re.findall(r'<link rel="preload" href="([^"]+)" as="(fetch|script)"', head)
    assert [url for url, _ in preloaded] == [
        "/_dash-layout",
        "/_dash-dependencies",
        "/_dash-component-suites/dash/dcc/async-dropdown.js",
        "/_dash-component-suites/dash/dcc/async-graph.js",
    ]
    for url, _kind in preloaded:
        assert llr.client.get(url).status_code == 200, url

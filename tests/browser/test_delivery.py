"""What crosses the wire, watched in Chromium (DevTools' network events): signed in as a CDOP user
and as an administrator, every page of the app is visited; nothing over 1 MB comes uncompressed,
the full plotly.js bundle is never requested (the vendored partial bundle is), nothing is fetched
from another origin, and every chart draws with trace types the bundle holds."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlparse

import pytest
from playwright.sync_api import Browser

from tests.browser.conftest import LiveApp, Session, browsing
from tests.browser.test_flows import PAGES
from tests.plotly_bundle import FULL_BUNDLE, bundle_trace_types, bundle_url_part, pinned_version

MB = 1_000_000
FIRST_VIEW_BUDGET = 1_200_000  # issue 15: bytes over the wire from /login to the overview drawn
ADMIN_PAGES = [
    ("/admin/mapping", "#map-in-force table"),
    ("/admin/users", "#users-table table"),
    ("/admin/loads", "#loads-table table"),
    ("/admin/reference", "#reference-summary p"),
    ("/admin/audit", "#audit-table table"),
]
MORE_STATES = [("/trends?grain=month&split=place", "#trend-chart .main-svg")]  # a chart of many lines


@dataclass
class Exchange:
    url: str = ""
    status: int = 0
    encoding: str = ""
    encoded: int = 0  # bytes on the wire, headers included (DevTools' encodedDataLength)
    body: int = 0  # bytes of the body once decoded
    finished: bool = False


@dataclass
class Wire:
    """Every request of one page (tab), from DevTools' network domain."""

    exchanges: dict[str, Exchange] = field(default_factory=dict)

    def __call__(self, request_id: str) -> Exchange:
        return self.exchanges.setdefault(request_id, Exchange())

    def watch(self, session: Session) -> None:
        cdp = session.page.context.new_cdp_session(session.page)
        cdp.send("Network.enable")
        cdp.on("Network.requestWillBeSent", lambda e: setattr(self(e["requestId"]), "url", e["request"]["url"]))
        cdp.on("Network.responseReceived", lambda e: self._response(e["requestId"], e["response"]))
        cdp.on("Network.dataReceived", lambda e: self._data(e["requestId"], e["dataLength"]))
        cdp.on("Network.loadingFinished", lambda e: self._finished(e["requestId"], e["encodedDataLength"]))

    def _response(self, request_id: str, response: dict[str, Any]) -> None:
        exchange = self(request_id)
        exchange.status = response["status"]
        headers = {name.lower(): value for name, value in response["headers"].items()}
        exchange.encoding = headers.get("content-encoding", "")

    def _data(self, request_id: str, length: int) -> None:
        self(request_id).body += length

    def _finished(self, request_id: str, encoded: int) -> None:
        exchange = self(request_id)
        exchange.encoded, exchange.finished = encoded, True

    def done(self) -> list[Exchange]:
        return [exchange for exchange in self.exchanges.values() if exchange.finished]

    def urls(self) -> list[str]:
        return [exchange.url for exchange in self.exchanges.values() if exchange.url]


def charts(session: Session) -> dict[str, Any]:
    """Each chart on the page: drawn (an SVG) or not, and its trace types; and the bundle's own list."""
    return session.page.evaluate(
        """() => ({
            graphs: [...document.querySelectorAll('.dash-graph')].map(graph => {
                const plot = graph.querySelector('.js-plotly-plot');
                return {
                    id: graph.id,
                    drawn: !!(plot && plot.querySelector('svg.main-svg')),
                    types: plot ? (plot.data || []).map(trace => trace.type || 'scatter') : [],
                };
            }),
            bundle: window.Plotly ? Object.keys(window.Plotly.PlotSchema.get().traces) : null,
            version: window.Plotly ? window.Plotly.version : null,
        })"""
    )


def visit_everything(session: Session, pages: list[tuple[str, str]]) -> dict[str, set[str]]:
    """Every page in turn, each waited for; returns each trace type drawn and where."""
    drawn: dict[str, set[str]] = {}
    for path, ready in pages:
        session.goto(path, ready)
        seen = charts(session)
        assert seen["version"] == pinned_version(), path
        assert set(seen["bundle"]) == bundle_trace_types(), "the static reading of the bundle differs from the page's"
        for graph in seen["graphs"]:
            assert graph["drawn"], f"{path}: chart {graph['id']} has no SVG"
            for kind in graph["types"]:
                drawn.setdefault(kind, set()).add(f"{path} #{graph['id']}")
    return drawn


def check_the_wire(wire: Wire, live: LiveApp) -> None:
    done = wire.done()
    assert done, "DevTools reported no network traffic"
    # a 304 brings no body (the browser's copy is shown as its body) and no Content-Encoding
    big_and_plain = [(e.url, e.body) for e in done if e.body > MB and not e.encoding and e.status != 304]
    assert not big_and_plain, f"sent uncompressed, over 1 MB: {big_and_plain}"
    urls = wire.urls()
    assert not [url for url in urls if FULL_BUNDLE.search(url)], "the full plotly.js bundle was requested"
    assert [url for url in urls if bundle_url_part() in url], "the partial plotly.js bundle was never requested"
    origin = urlparse(live.base)
    elsewhere = [
        url
        for url in urls
        if urlparse(url).scheme not in ("data", "blob") and urlparse(url)[:2] != (origin.scheme, origin.netloc)
    ]
    assert not elsewhere, f"fetched from outside the app: {elsewhere}"
    compressed = [e for e in done if e.encoding]
    assert compressed and {e.encoding for e in compressed} <= {"br", "gzip"}


@pytest.mark.parametrize("user", ["ncl", "admin"])
def test_every_page_arrives_compressed_from_this_app_with_the_partial_plotly_bundle(
    browser: Browser, live: LiveApp, user: str
) -> None:
    assert not FULL_BUNDLE.search(bundle_url_part())  # the pattern tells the two apart
    with browsing(browser, live) as session:
        wire = Wire()
        wire.watch(session)
        session.sign_in(user)
        session.page.wait_for_function(
            "() => [...document.querySelectorAll('.dash-graph')].every(g => g.querySelector('svg.main-svg'))"
        )
        session.settle()
        first_view = sum(e.encoded for e in wire.done())
        assert first_view <= FIRST_VIEW_BUDGET, f"the first view took {first_view:,} bytes over the wire"
        pages = [(path, ready) for _name, path, ready in PAGES] + MORE_STATES
        drawn = visit_everything(session, pages + (ADMIN_PAGES if user == "admin" else []))
        assert {"bar", "scatter", "heatmap"} <= set(drawn), drawn
        missing = {kind: sorted(where) for kind, where in drawn.items() if kind not in bundle_trace_types()}
        assert not missing, f"trace types the plotly.js bundle lacks: {missing}"
        check_the_wire(wire, live)
        assert session.console_errors == []


def test_what_dash_fetches_first_is_preloaded_and_fetched_once(browser: Browser, live: LiveApp) -> None:
    """The page's head preloads Dash's layout and dependencies and dcc's dropdown and graph code
    (dashboard.delivery.preload_links): each crosses the wire once per page load, so the preload
    was used and not fetched again when Dash asked for it."""
    with browsing(browser, live) as session:
        wire = Wire()
        wire.watch(session)
        initiators: list[tuple[str, str]] = []
        cdp = session.page.context.new_cdp_session(session.page)
        cdp.send("Network.enable")
        cdp.on(
            "Network.requestWillBeSent",
            lambda e: initiators.append((urlparse(e["request"]["url"]).path, e["initiator"]["type"])),
        )
        session.sign_in("ncl")
        session.goto("/trusts", "#drill-chart .main-svg")  # a second full page load, warm
        paths = [urlparse(e.url).path for e in wire.done()]
        # asked for by the page's HTML (the preload), not by a script once every script has run
        assert {kind for path, kind in initiators if path == "/_dash-layout"} == {"parser"}, initiators
        for path in (
            "/_dash-layout",
            "/_dash-dependencies",
            "/_dash-component-suites/dash/dcc/async-graph.js",
            "/_dash-component-suites/dash/dcc/async-dropdown.js",
        ):
            assert paths.count(path) == 2, (path, paths.count(path))  # once for each of the two loads
        assert session.console_errors == []


# The functions Dash's polyfill (core-js 2) replaces in this browser, and that plotly calls per mark
NATIVE = ["String.prototype.trim", "String.prototype.trimStart", "String.prototype.trimEnd", "parseInt", "parseFloat"]


def test_the_browser_s_own_trim_and_parse_int_are_in_use_and_the_polyfill_still_loaded(
    browser: Browser, live: LiveApp
) -> None:
    """assets/early/native-builtins.js: after Dash's scripts have run, each of ``NATIVE`` is the browser's
    own (its source, read through a fresh frame's untouched Function.prototype.toString, is native code),
    while the polyfill's generator runtime, which Dash's code needs, is still there."""
    with browsing(browser, live) as session:
        session.sign_in("ncl")
        found = session.page.evaluate(
            """(names) => {
                const frame = document.createElement('iframe');
                document.body.appendChild(frame);
                const source = frame.contentWindow.Function.prototype.toString;
                const named = (name) => name.split(".").reduce((owner, key) => owner[key], window);
                const own = (name) => /\\[native code\\]/.test(source.call(named(name)));
                const result = {runtime: typeof regeneratorRuntime, own: names.filter(own)};
                frame.remove();
                return result;
            }""",
            NATIVE,
        )
        assert found == {"runtime": "object", "own": NATIVE}, found
        assert session.console_errors == []

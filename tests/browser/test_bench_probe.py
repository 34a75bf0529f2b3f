"""The browser benchmark's idea of "drawn" (bench/browser.py) is not premature: at that moment every chart
holds the figure the server sent, and a filter change is timed from the click to the redraw."""

from __future__ import annotations

from playwright.sync_api import Browser

from bench.browser import Tab, filter_changes
from tests.browser.conftest import LiveApp

CHART_TRACES = """() => [...document.querySelectorAll('.dash-graph')].map(
    (g) => [g.id, (g.querySelector('.js-plotly-plot') || {data: []}).data.length])"""


def test_drawn_means_every_chart_holds_its_figure(browser: Browser, live: LiveApp) -> None:
    tab = Tab(browser, live.base)
    try:
        seconds = tab.sign_in("ncl", "demo-ncl")
        traces = dict(tab.page.evaluate(CHART_TRACES))
        state = tab.state()
        assert tab.bytes > 100_000  # the app's scripts crossed the wire, and were counted
    finally:
        tab.close()
    assert 0 < seconds < 30
    assert set(traces) == {"overview-trust", "overview-age", "overview-place", "overview-trend"}
    # the layout's placeholder figures have no traces: each now has the server's
    assert all(count > 0 for count in traces.values()), traces
    assert state["inflight"] == 0 and not state["loading"]


def test_a_filter_change_is_timed_from_the_click_to_the_redraw(browser: Browser, live: LiveApp) -> None:
    timings = filter_changes(browser, live.base, ("ncl", "demo-ncl"), changes=2, warm_up=1)
    assert len(timings) == 2
    assert all(0 < seconds < 10 for seconds in timings), timings

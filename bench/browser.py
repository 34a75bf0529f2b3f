"""What a person waits for, measured in Debian's Chromium against ``python app.py``.

Run as ``python -m bench.browser DATA_DIR RUNS OUT`` (``python -m bench`` does): the
app is started the README's way on a copy of DATA_DIR, and each measure is
repeated ``RUNS`` times (median and worst reported):

- cold: a fresh browser profile (no cache, no cookies) signs in; from the
  sign-in form's submit to every chart of the overview drawn, on loopback and
  on an emulated office link (Chromium's network emulation), with the bytes
  that crossed the wire (encoded, as sent) from the login page on;
- warm: in a profile that has seen the app, opening another page (a full load
  of /trusts) until its charts are drawn;
- filter changes: a bar of the age chart clicked, then the filter bar's reset,
  alternately, 20 changes per run, from the click (the pointer's release) to every chart of the
  page drawn again, for the largest footprint's user and for ``admin``. The pointer is moved
  onto the bar or the button and rests there (``AIM_MS``) before it is pressed, as a person's
  does: what its arrival sets off (the chart's hover label, the button's hover style, the
  label leaving the chart it left) is drawn before the click, not inside the wait;
- heap: ``admin`` visits every page through the navigation (one document);
  then, after a garbage collection, the tab's JavaScript heap in use.

"Drawn" is decided in the page (``DRAWN_PROBE``): no Dash request (``/_dash-*``)
in flight or with its body unread, no component marked loading by Dash and no
graph marked pending by dcc.Graph, every ``dcc.Graph`` holding plotly's SVG, and
nothing in the document changed for ``QUIET_MS``; the moment drawn is the last
change before that quiet spell (a request ending or a DOM mutation), so the
quiet wait is not counted. A resize pass that only sets and clears dcc.Graph's
pending mark (it follows a chart whose height changed, 100 ms later, and redraws
nothing) is waited for but is not a change, and neither is plotly's hover label
(it follows the pointer, which rests on a chart after a click).
"""

from __future__ import annotations

import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

from playwright.sync_api import Browser, BrowserContext, CDPSession, Page, sync_playwright

from bench.interactions import largest_cdop, percentile
from bench.startup import free_port

PROJECT = Path(__file__).resolve().parent.parent
CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync", "--no-first-run", "--disable-quic"]  # fmt: skip
RUNS = 5
CHANGES = 20
WARM_UP = 6  # changes before the timed ones: two for each of python app.py's workers on 2 cores
QUIET_MS = 500
AIM_MS = 200  # the pointer rests on its target this long before the press
# An office or home-VPN link: 10 Mbit/s each way, 40 ms added to every round trip.
OFFICE_LINK = {"offline": False, "latency": 40, "downloadThroughput": 10e6 / 8, "uploadThroughput": 10e6 / 8}
VIEWPORT = {"width": 1280, "height": 900}
VISIBLE_IDS = "links => links.filter((a) => a.offsetParent !== null).map((a) => a.id.slice(4))"

# Installed in every document before its own scripts: counts Dash's requests
# (until their bodies are read) and DOM changes, and notes the last pointer release.
PROBE = """
(() => {
  const b = window.__bench = {inflight: 0, last: performance.now(), input: null};
  const mark = () => { b.last = performance.now(); };
  const fetchFirst = window.fetch;
  window.fetch = function (...args) {
    const url = String((args[0] && args[0].url) || args[0]);
    const promise = fetchFirst.apply(this, args);
    if (url.includes('/_dash-')) {
      b.inflight += 1; mark();
      promise.then((r) => r.clone().arrayBuffer()).catch(() => null)
        .finally(() => { b.inflight -= 1; mark(); });
    }
    return promise;
  };
  // a click is made when the button is released: the wait starts there
  addEventListener('pointerup', (e) => { b.input = e.timeStamp; }, true);
  addEventListener('submit', () => {
    sessionStorage.setItem('__bench_submit', String(performance.timeOrigin + performance.now()));
  }, true);
  // dcc.Graph marks a graph "pending" while plotly works on it; a resize pass that redraws
  // nothing (the chart's own new height seen by its resize detector) only toggles that mark
  const pendingOnly = (m) => m.type === 'attributes' && m.attributeName === 'class'
    && m.target.classList && String(m.oldValue || '').replace(/ ?dash-graph--pending/, '')
      === m.target.className.replace(/ ?dash-graph--pending/, '');
  // plotly's hover label follows the pointer, which rests on the chart after a click: not the chart
  const hoverOnly = (m) => !!(m.target.closest
    ? m.target.closest('.hoverlayer') : m.target.parentElement && m.target.parentElement.closest('.hoverlayer'));
  const ignored = (m) => pendingOnly(m) || hoverOnly(m);
  new MutationObserver((changes) => { if (!changes.every(ignored)) { mark(); } }).observe(document,
    {childList: true, subtree: true, attributes: true, characterData: true, attributeOldValue: true});
  b.state = () => {
    const graphs = [...document.querySelectorAll('.dash-graph')];
    return {
      inflight: b.inflight,
      graphs: graphs.length,
      drawn: graphs.filter((g) => g.querySelector('svg.main-svg')).length,
      loading: document.querySelector('[data-dash-is-loading="true"], .dash-graph--pending') !== null,
      quiet: performance.now() - b.last,
      last: b.last,
      input: b.input,
      origin: performance.timeOrigin,
    };
  };
})();
"""
DRAWN_PROBE = """
(want) => {
  const s = window.__bench && window.__bench.state();
  return !!s && s.inflight === 0 && !s.loading && s.graphs >= want.graphs && s.drawn === s.graphs
    && s.quiet >= want.quiet && (want.after === null || s.last > want.after);
}
"""


@contextmanager
def serving(data_dir: Path) -> Iterator[str]:
    """``python app.py`` on a copy of ``data_dir`` (the README's first command), on a free loopback port."""
    with tempfile.TemporaryDirectory() as scratch:
        run_dir = Path(scratch) / "data"
        shutil.copytree(data_dir, run_dir, ignore=shutil.ignore_patterns("*.lock"))
        port = free_port()
        env = {**os.environ, "DATA_DIR": str(run_dir), "HOST": "127.0.0.1", "PORT": str(port)}
        log = (Path(scratch) / "server.log").open("w")
        server = subprocess.Popen(
            [sys.executable, "app.py"], cwd=PROJECT, env=env, stdout=log, stderr=subprocess.STDOUT
        )
        base = f"http://127.0.0.1:{port}"
        deadline = time.monotonic() + 90
        while True:
            try:
                with urllib.request.urlopen(f"{base}/login", timeout=2):  # noqa: S310 - loopback
                    break
            except OSError:
                if server.poll() is not None or time.monotonic() > deadline:
                    server.kill()
                    raise RuntimeError("the app did not start") from None
                time.sleep(0.2)
        try:
            yield base
        finally:
            server.terminate()
            server.wait(timeout=30)
            log.close()


class Tab:
    """One page in a fresh context (a fresh profile: no cache, no cookies), with the probe and CDP attached."""

    def __init__(self, browser: Browser, base: str, link: dict[str, Any] | None = None) -> None:
        self.base = base
        self.context: BrowserContext = browser.new_context(viewport=VIEWPORT)
        self.context.add_init_script(PROBE)
        self.page: Page = self.context.new_page()
        self.cdp: CDPSession = self.context.new_cdp_session(self.page)
        self.bytes = 0
        self.responses: dict[str, int] = {}
        self.cdp.send("Network.enable")
        self.cdp.on("Network.responseReceived", self._response)
        self.cdp.on("Network.loadingFinished", self._finished)
        if link:
            self.cdp.send("Network.emulateNetworkConditions", link)

    def _response(self, event: dict[str, Any]) -> None:
        self.responses[event["requestId"]] = event["response"]["url"]

    def _finished(self, event: dict[str, Any]) -> None:
        self.bytes += int(event["encodedDataLength"])

    def close(self) -> None:
        self.context.close()

    def state(self) -> dict[str, Any]:
        return self.page.evaluate("() => window.__bench.state()")

    def wait_drawn(self, graphs: int = 1, after: float | None = None, timeout_ms: int = 60_000) -> dict[str, Any]:
        """Until the page is drawn (see the module's docstring); its state then."""
        self.page.wait_for_function(
            DRAWN_PROBE, arg={"graphs": graphs, "quiet": QUIET_MS, "after": after}, polling=50, timeout=timeout_ms
        )
        return self.state()

    def sign_in(self, username: str, password: str) -> float:
        """Seconds from the sign-in form's submit to the overview's charts drawn."""
        self.page.goto(f"{self.base}/login")
        self.page.fill("#username", username)
        self.page.fill("#password", password)
        self.page.click("button[type=submit]")
        self.page.wait_for_url(f"{self.base}/", timeout=60_000)
        state = self.wait_drawn(graphs=4)
        submitted = float(self.page.evaluate("() => sessionStorage.getItem('__bench_submit')"))
        return (state["origin"] + state["last"] - submitted) / 1000


def cold_first_view(browser: Browser, base: str, user: tuple[str, str], link: dict | None) -> dict[str, float]:
    tab = Tab(browser, base, link)
    try:
        seconds = tab.sign_in(*user)
        return {"seconds": seconds, "bytes": tab.bytes}
    finally:
        tab.close()


def warm_other_page(browser: Browser, base: str, user: tuple[str, str]) -> float:
    """Seconds from navigating to /trusts (a full load, assets cached) to its charts drawn."""
    tab = Tab(browser, base)
    try:
        tab.sign_in(*user)
        tab.page.goto(f"{base}/trusts")
        state = tab.wait_drawn(graphs=1)
        return state["last"] / 1000  # the document's time origin is the navigation's start
    finally:
        tab.close()


def aim_and_click(page: Page, x: float, y: float) -> None:
    """Move the pointer to (x, y), rest there ``AIM_MS``, then press and release it."""
    page.mouse.move(x, y)
    page.wait_for_timeout(AIM_MS)
    page.mouse.down()
    page.mouse.up()


def click_bar(page: Page, graph: str, index: int) -> None:
    bars = page.locator(f"#{graph} .point path")
    box = bars.nth(index % bars.count()).bounding_box()
    assert box is not None, f"no bar {index} in {graph}"
    aim_and_click(page, box["x"] + box["width"] / 2, box["y"] + box["height"] / 2)


def click_button(page: Page, selector: str) -> None:
    button = page.locator(selector)
    button.scroll_into_view_if_needed()
    box = button.bounding_box()
    assert box is not None, f"no {selector} on the page"
    aim_and_click(page, box["x"] + box["width"] / 2, box["y"] + box["height"] / 2)


def filter_changes(
    browser: Browser, base: str, user: tuple[str, str], changes: int = CHANGES, warm_up: int = WARM_UP
) -> list[float]:
    """Seconds from each click (the pointer released) to every chart of the overview drawn again (after ``warm_up``
    changes that are not counted, as the server-side bench does: each worker's first sight of a
    footprint fills its caches)."""
    tab = Tab(browser, base)
    timings: list[float] = []
    try:
        tab.sign_in(*user)
        for number in range(warm_up + changes):
            before = tab.page.url
            clicked_after = tab.state()["last"]
            if number % 2 == 0:
                tab.page.locator("#overview-age").scroll_into_view_if_needed()
                click_bar(tab.page, "overview-age", number // 2)
            else:
                click_button(tab.page, "#filter-reset")
            tab.page.wait_for_function("before => location.href !== before", arg=before, timeout=30_000)
            state = tab.wait_drawn(graphs=4, after=clicked_after)
            timings.append((state["last"] - state["input"]) / 1000)
        return timings[warm_up:]
    finally:
        tab.close()


def heap_after_every_page(browser: Browser, base: str, user: tuple[str, str], pages: list[str]) -> float:
    """MB of JavaScript heap in use (after a collection) once every page was opened from the navigation."""
    tab = Tab(browser, base)
    try:
        tab.sign_in(*user)
        for page in pages:
            tab.page.click(f"#nav-{page}")
            tab.page.wait_for_function("() => !document.querySelector('[data-dash-is-loading=\"true\"]')")
            tab.wait_drawn(graphs=0)
        tab.cdp.send("HeapProfiler.collectGarbage")
        used = tab.cdp.send("Runtime.getHeapUsage")["usedSize"]
        return used / 1e6
    finally:
        tab.close()


def nav_pages(browser: Browser, base: str, user: tuple[str, str]) -> list[str]:
    """The pages the navigation offers this user, in its order (the overview last, to come back to it)."""
    tab = Tab(browser, base)
    try:
        tab.sign_in(*user)
        ids = tab.page.eval_on_selector_all("nav a[id^='nav-']", VISIBLE_IDS)
    finally:
        tab.close()
    return [page for page in ids if page != "overview"] + ["overview"]


def summary(values: list[float], scale: float = 1.0, digits: int = 3) -> dict[str, float]:
    return {
        "median": round(statistics.median(values) * scale, digits),
        "worst": round(max(values) * scale, digits),
        "runs": len(values),
    }


def repeat(label: str, runs: int, once: Callable[[], Any]) -> list[Any]:
    out = []
    for number in range(runs):
        out.append(once())
        print(f"  browser: {label} {number + 1}/{runs}", file=sys.stderr, flush=True)
    return out


def measure(data_dir: Path, runs: int = RUNS) -> dict[str, Any]:
    from operational.accounts import demo_password

    cdop = largest_cdop(data_dir / "deaths.duckdb", date.today())
    panel = (cdop.lower(), demo_password(cdop))
    admin = ("admin", "admin-demo")
    with serving(data_dir) as base, sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        try:
            cold_first_view(browser, base, panel, None)  # a warm-up: the server's own first requests
            loopback = repeat("cold, loopback", runs, lambda: cold_first_view(browser, base, panel, None))
            office = repeat("cold, office link", runs, lambda: cold_first_view(browser, base, panel, OFFICE_LINK))
            warm = repeat("warm, another page", runs, lambda: warm_other_page(browser, base, panel))
            changes = {
                name: repeat(f"filter changes, {name}", runs, lambda who=who: filter_changes(browser, base, who))
                for name, who in ((panel[0], panel), ("admin", admin))
            }
            pages = nav_pages(browser, base, admin)
            heap = repeat("heap", runs, lambda: heap_after_every_page(browser, base, admin, pages))
        finally:
            browser.close()
    commit = subprocess.run(
        ["git", "rev-parse", "--short", "HEAD"],  # noqa: S607 - which code was measured
        cwd=PROJECT,
        capture_output=True,
        text=True,
        check=False,
    ).stdout.strip()
    return {
        "date": datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC"),
        "commit": commit,
        "load_average": [round(value, 2) for value in os.getloadavg()],  # was the machine busy?
        "cdop_user": panel[0],
        "office_link": OFFICE_LINK,
        "aim_ms": AIM_MS,
        "cold_loopback_s": summary([run["seconds"] for run in loopback]),
        "cold_office_s": summary([run["seconds"] for run in office]),
        "first_view_mb": summary([run["bytes"] for run in loopback], 1e-6),
        "warm_page_s": summary(warm),
        "filter_change_p95_ms": {
            name: {
                **summary([percentile(run, 0.95) for run in timings], digits=1),
                "p50_ms": percentile([t for run in timings for t in run], 0.5),
                "changes": sum(len(run) for run in timings),
            }
            for name, timings in changes.items()
        },
        "heap_mb": summary(heap, digits=1),
        "heap_pages": pages,
    }


def main() -> None:
    """``python -m bench.browser DATA_DIR RUNS OUT``."""
    data_dir, runs, out = Path(sys.argv[1]), int(sys.argv[2]), Path(sys.argv[3])
    out.write_text(json.dumps(measure(data_dir, runs), indent=2))


if __name__ == "__main__":
    main()

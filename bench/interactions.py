"""Filter changes replayed through HTTP, side by side with their floor and the naive peer.

A filter change in the browser writes the URL there (a clientside callback,
replayed here by ``browser_query``), then sends the page's callback for the new
URL to ``/_dash-update-component``; if the server answers with a different
(canonical) URL, the browser sends it again, and that counts too. Requests go
through the whole Flask stack here (login session, CSRF gate, Dash, JSON), in
process, and their sum is one interaction. Every DuckDB statement they run is recorded; the floor
runs exactly those statements bare (no polars, no figures, no HTTP). The
naive peer answers the same scope and filters with pandas and plotly.express.
Each change is followed at once by its floor, so a busy moment on the machine
hits both alike; the peer runs after (it loads the store into pandas, which
must not count in the worker memory measured).
"""

from __future__ import annotations

import re
import statistics
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

import duckdb

from bench.dash_request import callback_body
from dashboard.app import create_app
from dashboard.context import services
from dashboard.runtime import tune_worker
from dashboard.ui import ids
from dashboard.ui.filter_bar import URL_ORDER
from dashboard.urlstate import VIEW_PARAMS, first, parse_query, raw_filters
from queries import codes, report
from queries.filters import Filters
from queries.scope import Scope, cdop_scope, cdops_in_force, england_scope
from queries.store import open_readonly, use_store
from settings import load_settings

# page -> (path, a part of its refresh callback's output that names it uniquely)
PAGES = {
    "overview": ("/", "overview-trust.figure"),  # its text is set beside its charts (set_props)
    "trusts": ("/trusts", "drill-crumbs.children"),
    "reviewing": ("/reviewing", "review-headline-0-value.children"),
    # the Reviews page answers in three callbacks, side by side: each is timed as a page of its own
    "reviews": ("/reviews", "reviews-period.children"),
    "reviews-england": ("/reviews", "reviews-england.figure"),
    "reviews-windows": ("/reviews", "reviews-categories.figure"),
    "trends": ("/trends", "trend-chart.figure"),
    "map": ("/map", "geo-chart.figure"),
}
Options = dict[str, list[dict[str, Any]]]
REST_SECONDS = 2.0  # the worker's memory is read again after this long idle (DuckDB gives memory back within 1 s)


def _values(options: Options, component: str, keep: Callable[[str], bool] = lambda _: True) -> list[str]:
    return [o["value"] for o in options.get(component, []) if keep(o["value"])]


@dataclass(frozen=True)
class Step:
    """One thing a person does in the filter bar: set ``component`` to what ``choose`` picks from its options."""

    label: str
    component: str
    choose: Callable[[Options], Any]


# A panel manager narrowing down to neonatal deaths of non-residents, looking
# at who reviews them, then at one trust, a date range, and back to the start.
STEPS = (
    Step("the latest financial year", ids.FILTER_YEARS, lambda o: _values(o, ids.FILTER_YEARS)[-1:]),
    Step("the last two financial years", ids.FILTER_YEARS, lambda o: _values(o, ids.FILTER_YEARS)[-2:]),
    Step(
        "neonatal units",
        ids.FILTER_PLACE,
        lambda o: _values(o, ids.FILTER_PLACE, lambda v: v in codes.NEONATAL_UNIT_PLACES),
    ),
    Step("babies under 28 days", ids.FILTER_AGE, lambda o: _values(o, ids.FILTER_AGE)[:1]),
    Step("any place", ids.FILTER_PLACE, lambda o: []),
    Step(
        "children who lived elsewhere",
        ids.FILTER_RESIDENCE,
        lambda o: _values(o, ids.FILTER_RESIDENCE, lambda v: v != "footprint"),
    ),
    Step(
        "no reviewing CDOP yet", ids.FILTER_REVIEWER, lambda o: _values(o, ids.FILTER_REVIEWER, codes.UNASSIGNED.__eq__)
    ),
    Step("any reviewer", ids.FILTER_REVIEWER, lambda o: []),
    Step("one trust", ids.FILTER_TRUST, lambda o: _values(o, ids.FILTER_TRUST)[:1]),
    Step("any trust", ids.FILTER_TRUST, lambda o: []),
    Step("from a month", ids.FILTER_FROM, lambda o: (_values(o, ids.FILTER_FROM) or [None])[0]),
    Step("reset", ids.FILTER_RESET, lambda o: None),
)


class RecordingCursor:
    """A DuckDB cursor that notes every statement it runs (for the floor)."""

    def __init__(self, conn: duckdb.DuckDBPyConnection, log: list[tuple[str, Any]]) -> None:
        self._conn = conn
        self._log = log

    def sql(self, query: str, *, params: Any = None) -> duckdb.DuckDBPyRelation:
        self._log.append((query, params))
        return self._conn.sql(query, params=params)

    def execute(self, query: str, parameters: Any = None) -> duckdb.DuckDBPyConnection:
        self._log.append((query, parameters))
        return self._conn.execute(query, parameters)

    def __getattr__(self, name: str) -> Any:
        return getattr(self._conn, name)


@dataclass
class Timings:
    ours: list[float] = field(default_factory=list)
    floor: list[float] = field(default_factory=list)
    peer: list[float] = field(default_factory=list)
    statements: list[int] = field(default_factory=list)
    requests: list[int] = field(default_factory=list)


def browser_query(values: dict[str, Any], options: Options, reset: bool) -> str:
    """The URL the filter bar's clientside callback writes (``dashboard/ui/filter_bar.py``)."""
    current = parse_query(values.get("url.search"))
    pairs = [(name, value) for name in VIEW_PARAMS if (value := first(current, name))]
    if not reset:
        chosen: dict[str, list[str]] = {}
        for component, (param, _) in ids.FILTER_DROPDOWNS.items():
            raw = values.get(f"{component}.value") or []
            order = {o["value"]: i for i, o in enumerate(options.get(component, []))}
            picked = dict.fromkeys(map(str, raw if isinstance(raw, list) else [raw]))
            chosen[param] = sorted(
                picked, key=lambda v, order=order, fy=param == "fy": int(v) if fy else order.get(v, 1e9)
            )
        for param, component in (("from", ids.FILTER_FROM), ("to", ids.FILTER_TO)):
            chosen[param] = [str(values[f"{component}.value"])[:10]] if values.get(f"{component}.value") else []
        pairs += [(param, value) for param in URL_ORDER for value in chosen[param]]
    return f"?{urlencode(pairs)}" if pairs else ""


class Browser:
    """Sends what the browser sends: the page's callback for each new URL,
    with the filter bar's state, and applies what the server sets in return."""

    def __init__(self, client: Any, page: str) -> None:
        self.client = client
        dependencies = client.get("/_dash-dependencies").get_json()
        self.page = next(d for d in dependencies if PAGES[page][1] in d["output"])
        self.values: dict[str, Any] = {"url.search": ""}
        self.options: Options = {}
        self.requests = 0  # callback requests sent, for the results table
        self.server_seconds = 0.0  # time spent in the app answering them

    def _post(self) -> None:
        body = callback_body(self.page, self.values, "url.search")
        self.requests += 1
        started = time.perf_counter()
        response = self.client.post("/_dash-update-component", json=body)
        self.server_seconds += time.perf_counter() - started
        if response.status_code != 200:
            raise RuntimeError(f"callback answered {response.status_code}: {response.get_data(as_text=True)[:200]}")
        for component, props in response.get_json().get("sideUpdate", {}).items():
            for prop, value in props.items():
                if prop == "options":
                    self.options[component] = value
                else:
                    self.values[f"{component}.{prop}"] = value

    def change(self, step: Step | None) -> str | None:
        """One interaction; the new URL search, or None when the page would not redraw."""
        if step is not None and step.component != ids.FILTER_RESET:
            self.values[f"{step.component}.value"] = step.choose(self.options)
        if step is not None:
            search = browser_query(self.values, self.options, reset=step.component == ids.FILTER_RESET)
            if search == self.values["url.search"]:
                return None  # the URL did not change, so the page's callback would not fire
            self.values["url.search"] = search
        for _ in range(3):  # the page's callback; again if the server set another (canonical) URL
            search = self.values["url.search"]
            self._post()
            if self.values["url.search"] == search:
                break
        return str(self.values["url.search"])

    def follow(self, search: str) -> str:
        """The page's callback for a URL another callback of the same page has led to."""
        self.values["url.search"] = search
        self._post()
        return search


def leader_of(page: str) -> str | None:
    """The page whose callback keeps the filter bar in step for ``page``: the first listed with its
    path, when that is another (the Reviews page's England and windows callbacks follow its first)."""
    first = next(name for name, (path, _) in PAGES.items() if path == PAGES[page][0])
    return None if first == page else first


def bench_scope(conn: duckdb.DuckDBPyConnection, user: str, day: date) -> Scope:
    return england_scope(conn, day) if user == "admin" else cdop_scope(conn, [user.upper()], day)


def largest_cdop(store_path: Path, day: date) -> str:
    """The CDOP whose hospitals have the most deaths: the heaviest footprint a panel user has."""
    conn = open_readonly(store_path)
    try:
        cursor = use_store(conn.cursor())
        sizes = {
            code: int(report.headline(cursor, cdop_scope(cursor, [code], day), Filters())["deaths"][0])
            for code, _name in cdops_in_force(cursor, day)
        }
    finally:
        conn.close()
    return max(sizes, key=lambda code: (sizes[code], code))


def run(
    data_dir: Path,
    users: dict[str, str],
    rounds: int,
    *,
    peer_rounds: int = 1,
    tune_gc: bool = True,
    on_phase: Callable[[str], None] = lambda _: None,
) -> dict[str, Any]:
    """Times every step of ``STEPS`` on every page for every user, ``rounds`` times after a warm-up."""
    app = create_app(load_settings({"DATA_DIR": str(data_dir)}))
    if tune_gc:
        tune_worker()  # as gunicorn.conf.py does in each worker
    day = date.today()
    with app.server.app_context():
        store = services().store
    real_cursor, real_lease = store.cursor, store.lease
    log: list[tuple[str, Any]] = []

    def recording_lease() -> tuple[Any, Callable[[], None]]:
        cursor, give_back = real_lease()
        return RecordingCursor(cursor, log), give_back

    store.lease = recording_lease  # type: ignore[method-assign]

    results: dict[str, dict[str, Timings]] = {}
    searches: dict[tuple[str, str], list[str]] = {}
    for user, password in users.items():
        client = sign_in(app.server.test_client(), user, password)
        for page in PAGES:
            on_phase(f"{user} {page}: ours and the floor")
            browser = Browser(client, page)
            leader = Browser(client, led_by) if (led_by := leader_of(page)) else None
            if leader is not None:
                leader.change(None)
            browser.change(None)
            timings = Timings()
            searches[user, page] = []
            floor_conn = real_cursor()
            try:
                for round_ in range(rounds + 1):  # round 0 warms caches and is not counted
                    for step in STEPS:
                        if leader is not None:  # the filter bar moved by the page's first callback, untimed
                            led_to = leader.change(step)
                            if led_to is None:
                                continue
                        log.clear()
                        sent, before = browser.requests, browser.server_seconds
                        search = browser.change(step) if leader is None else browser.follow(led_to)
                        elapsed = browser.server_seconds - before  # the browser's own work is not server time
                        if search is None:
                            continue
                        if not round_:
                            searches[user, page].append(search)
                            continue
                        timings.ours.append(elapsed)
                        timings.statements.append(len(log))
                        timings.requests.append(browser.requests - sent)
                        # the floor at once, so a busy moment on the machine hits both alike
                        statements = list(log)
                        started = time.perf_counter()
                        for query, params in statements:
                            floor_conn.sql(query, params=params).to_arrow_table()
                        timings.floor.append(time.perf_counter() - started)
            finally:
                floor_conn.close()
            results.setdefault(user, {})[page] = timings
    busy = memory()  # as the last change was answered
    time.sleep(REST_SECONDS)  # then as a worker rests between requests, what it holds for the next
    rss = {**memory(), "rss_at_once_mb": busy["rss_mb"], "rest_seconds": REST_SECONDS}
    if peer_rounds:
        on_phase("naive peer: loading the store into pandas")
        from bench.naive import NaivePeer  # only now: pandas is not part of the worker measured above

        naive = NaivePeer(data_dir / "deaths.duckdb")
        conn = real_cursor()
        try:
            for user in users:
                scope = bench_scope(conn, user, day)
                options = report.filter_options(conn, scope)
                for page in PAGES:
                    on_phase(f"{user} {page}: naive peer")
                    for _ in range(peer_rounds):
                        for search in searches[user, page]:
                            started = time.perf_counter()
                            filters = options.clean(raw_filters(parse_query(search)))
                            naive.page(page, scope, filters)
                            results[user][page].peer.append(time.perf_counter() - started)
        finally:
            conn.close()
    return {"timings": results, "memory": rss}


def sign_in(client: Any, username: str, password: str) -> Any:
    """Post the login form as a browser does, CSRF token and all."""
    token = re.search(r'name="csrf_token" value="([^"]+)"', client.get("/login").get_data(as_text=True))
    if token is None:
        raise RuntimeError("the login page has no CSRF token")
    form = {"username": username, "password": password, "csrf_token": token.group(1)}
    if client.post("/login", data=form).status_code != 302:
        raise RuntimeError(f"{username} could not sign in")
    return client


def memory() -> dict[str, float]:
    """This process's resident set now and at its peak, in MB (Linux)."""
    fields = {}
    for line in Path("/proc/self/status").read_text().splitlines():
        name, _, value = line.partition(":")
        if name in ("VmRSS", "VmHWM"):
            fields[name] = int(value.split()[0]) / 1024
    return {"rss_mb": round(fields.get("VmRSS", 0.0), 1), "peak_rss_mb": round(fields.get("VmHWM", 0.0), 1)}


def summarise(timings: dict[str, dict[str, Timings]]) -> dict[str, dict[str, dict[str, float]]]:
    """Per user and page: p50 / p95 in ms, and the ratios (of medians) to the floor and from the peer.

    A change the app answered from its own caches ran no statement, so it has no floor (nothing to
    run bare): the floor and the ratio are of the changes that ran at least one, and ``cached``
    counts the others (their times are in p50 and p95 like every change's)."""
    out: dict[str, dict[str, dict[str, float]]] = {}
    for user, pages in timings.items():
        for page, t in pages.items():
            ran = [(ours, floor) for ours, floor, n in zip(t.ours, t.floor, t.statements, strict=True) if n]
            row = {
                "changes": len(t.ours),
                "ours_p50_ms": percentile(t.ours, 0.5),
                "ours_p95_ms": percentile(t.ours, 0.95),
                "floor_p50_ms": percentile([floor for _, floor in ran], 0.5),
                "statements_per_change": statistics.median(t.statements) if t.statements else 0,
                "requests_per_change": max(t.requests, default=0),
                "cached": len(t.ours) - len(ran),
            }
            if ran:
                row["ours_over_floor"] = round(percentile([ours for ours, _ in ran], 0.5) / row["floor_p50_ms"], 2)
            if t.peer:
                row["peer_p50_ms"] = percentile(t.peer, 0.5)
                row["peer_over_ours"] = round(row["peer_p50_ms"] / row["ours_p50_ms"], 2)
            out.setdefault(user, {})[page] = row
    return out


def percentile(seconds: list[float], share: float) -> float:
    """The nearest-rank percentile, in milliseconds."""
    ordered = sorted(seconds)
    if not ordered:
        return float("nan")
    return round(1000 * ordered[min(len(ordered) - 1, max(0, round(share * len(ordered)) - 1))], 1)


def main() -> None:
    """``python -m bench.interactions DATA_DIR ROUNDS PEER_ROUNDS OUT``: one scale, in a process of its own."""
    import json
    import sys

    from operational.accounts import demo_password

    data_dir, rounds, peer_rounds, out = Path(sys.argv[1]), int(sys.argv[2]), int(sys.argv[3]), Path(sys.argv[4])
    cdop = largest_cdop(data_dir / "deaths.duckdb", date.today())
    users = {cdop.lower(): demo_password(cdop), "admin": "admin-demo"}
    result = run(
        data_dir,
        users,
        rounds,
        peer_rounds=peer_rounds,
        on_phase=lambda phase: print(f"  {data_dir.name}: {phase}", file=sys.stderr, flush=True),
    )
    summary = {"cdop_user": cdop.lower(), "pages": summarise(result["timings"]), "worker_memory": result["memory"]}
    out.write_text(json.dumps(summary, indent=2))


if __name__ == "__main__":
    main()

"""The benchmark's results as a table against the targets (bench/results.md) and as JSON beside it."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

# measure -> (what it is, target as written, comparison, the limit)
TARGETS: dict[str, tuple[str, str, str, float]] = {
    "p95_1x": ("p95 of a filter change, 1x (worst page and user)", "<= 30 ms", "<=", 30),
    "p95_100x": ("p95 of a filter change, 100x (worst page and user)", "<= 200 ms", "<=", 200),
    "floor_100x": ("interaction / floor, 100x (worst page and user)", "<= 2.0", "<=", 2.0),
    "peer_100x": ("naive peer / ours, 100x (worst page and user)", ">= 5", ">=", 5),
    "startup": ("login page answering after `python app.py`", "<= 3 s", "<=", 3),
    "csv_seconds": ("case-list CSV, 100k rows: time", "<= 1 s", "<=", 1),
    "csv_memory": ("case-list CSV, 100k rows: memory growth", "< 50 MB", "<", 50),
    "pack_seconds": ("panel pack of every page, all England, 1x: time", "< 2 s", "<", 2),
    "pack_memory": ("panel pack of every page, all England, 1x: memory growth", "< 100 MB", "<", 100),
    "rss_100x": ("worker RSS after the 100x run (resting)", "<= 300 MB", "<=", 300),
    "load_p95": ("50 concurrent users: p95 of a request", "<= 300 ms", "<=", 300),
    "load_errors": ("50 concurrent users: errors", "0", "<=", 0),
    "two_hosts_p95": ("100 users over two hosts (one PostgreSQL): p95 of a request", "<= 300 ms", "<=", 300),
    "two_hosts_errors": ("100 users over two hosts (one PostgreSQL): errors", "0", "<=", 0),
    # in the browser (bench/browser.py): medians of RUNS runs, the worst beside them in their own section
    "browser_cold": ("browser: sign-in to all charts drawn, cold cache, loopback", "<= 1.0 s", "<=", 1.0),
    "browser_office": ("browser: the same on an emulated 10 Mbit/s, 40 ms link", "<= 2.5 s", "<=", 2.5),
    "browser_bytes": ("browser: bytes over the wire for that first view (MB)", "<= 1.2 MB", "<=", 1.2),
    "browser_warm": ("browser: warm cache, open another page", "<= 0.35 s", "<=", 0.35),
    "browser_change": (
        "browser: filter change, p95 over 20 changes (worst user), 1x",
        "<= 120 ms",
        "<=",
        120,
    ),
    "browser_heap": ("browser: JavaScript heap after visiting every page (MB)", "<= 60 MB", "<=", 60),
}
# browser measure -> where its {median, worst} is in the browser results
BROWSER_FIGURES: dict[str, Callable[[dict[str, Any]], dict[str, float]]] = {
    "browser_cold": lambda b: b["cold_loopback_s"],
    "browser_office": lambda b: b["cold_office_s"],
    "browser_bytes": lambda b: b["first_view_mb"],
    "browser_warm": lambda b: b["warm_page_s"],
    "browser_change": lambda b: max(b["filter_change_p95_ms"].values(), key=lambda row: row["median"]),
    "browser_heap": lambda b: b["heap_mb"],
}
COMPARE: dict[str, Callable[[float, float], bool]] = {
    "<=": lambda a, b: a <= b,
    "<": lambda a, b: a < b,
    ">=": lambda a, b: a >= b,
}


def _worst(scale: dict[str, Any] | None, key: str, pick: Callable[..., float] = max) -> float | None:
    if not scale:
        return None
    return pick(row[key] for pages in scale["pages"].values() for row in pages.values() if key in row)


def measured(results: dict[str, Any]) -> dict[str, float | None]:
    """Each target's measure from the raw results (None where that part was not run)."""
    scales = results["scales"]
    one, hundred = scales.get("1"), scales.get("100")
    csv = results.get("case_csv", {})
    load = results.get("load_test", {})
    two_hosts = results.get("load_test_two_hosts", {})
    pack = results.get("pack", {})
    browser = results.get("browser")
    return {
        "p95_1x": _worst(one, "ours_p95_ms"),
        "p95_100x": _worst(hundred, "ours_p95_ms"),
        "floor_100x": _worst(hundred, "ours_over_floor"),
        "peer_100x": _worst(hundred, "peer_over_ours", min),
        "startup": results.get("startup_seconds"),
        "csv_seconds": csv.get("seconds"),
        "csv_memory": csv.get("memory_growth_mb"),
        "pack_seconds": pack.get("first_seconds"),
        "pack_memory": pack.get("memory_growth_mb"),
        "rss_100x": hundred["worker_memory"]["rss_mb"] if hundred else None,
        "load_p95": load.get("p95_ms"),
        "load_errors": load.get("errors"),
        "two_hosts_p95": two_hosts.get("p95_ms"),
        "two_hosts_errors": two_hosts.get("errors"),
        **{key: figure(browser)["median"] if browser else None for key, figure in BROWSER_FIGURES.items()},
    }


def markdown(results: dict[str, Any]) -> str:
    values = measured(results)
    lines = [
        "# Benchmark results",
        "",
        f"Run {results['date']} on {results['cores']} cores (Python {results['python']}, {results['machine']}), "
        f"{results.get('run_minutes', '?')} minutes. Written by `python -m bench`; times are server time in ms.",
    ]
    if results.get("quick"):
        lines += ["", "**A quick smoke run (few rounds): not a result.**"]
    lines += ["", "## Targets", "", "| measure | target | result | met |", "|---|---|---|---|"]
    for key, (label, target, op, limit) in TARGETS.items():
        value = values[key]
        met = "not run" if value is None else ("yes" if COMPARE[op](value, limit) else "**no**")
        lines.append(f"| {label} | {target} | {'' if value is None else value} | {met} |")
    for scale, run in results["scales"].items():
        memory = run["worker_memory"]
        lines += [
            "",
            f"## {scale}x: filter changes (CDOP user `{run['cdop_user']}`, the largest footprint; and `admin`, "
            "all England)",
            "",
            f"Worker memory after the run: {memory['rss_mb']} MB resident"
            + (
                f" after {memory['rest_seconds']:g} s idle ({memory['rss_at_once_mb']} MB as the last change was "
                "answered)"
                if "rest_seconds" in memory
                else ""
            )
            + f", {memory['peak_rss_mb']} MB at peak.",
            "",
            "| user | page | changes | p50 | p95 | floor p50 | ours / floor | peer p50 | peer / ours | statements "
            "| from cache | requests (most) |",
            "|---|---|---|---|---|---|---|---|---|---|---|---|",
        ]
        for user, pages in run["pages"].items():
            for page, row in pages.items():
                lines.append(
                    f"| {user} | {page} | {row['changes']} | {row['ours_p50_ms']} | {row['ours_p95_ms']} | "
                    f"{row['floor_p50_ms']} | {row.get('ours_over_floor', '')} | {row.get('peer_p50_ms', '')} | "
                    f"{row.get('peer_over_ours', '')} | {row['statements_per_change']:g} | {row.get('cached', '')} | "
                    f"{row.get('requests_per_change', '')} |"
                )
    browser = results.get("browser")
    if browser:
        lines += browser_section(browser, results.get("browser_before"), results.get("browser_first_run"))
    csv = results.get("case_csv")
    if csv:
        lines += [
            "",
            "## Case-list CSV",
            "",
            f"{csv['rows']:,} rows ({csv['megabytes']} MB) streamed in {csv['seconds']} s; the process grew by "
            f"{csv['memory_growth_mb']} MB at its peak (from {csv['rss_before_mb']} MB). Before it, the worker's "
            f"first case download (one year) grew it by {csv.get('first_download_growth_mb', '?')} MB once: DuckDB "
            "keeping the case columns it read, for the worker's life.",
        ]
    pack = results.get("pack")
    if pack:
        lines += ["", "## Panel pack", "", pack_sentence(pack)]
    runs = [results[key] for key in ("load_test", "load_test_two_hosts") if results.get(key)]
    if runs:
        lines += ["", "## Load test", ""]
        for load in runs:
            where = (
                f"{load['hosts']} gunicorn hosts sharing one PostgreSQL and one SECRET_KEY (each user's requests "
                "taking turns between them, as behind a load balancer without sticky sessions)"
                if load.get("hosts", 1) > 1
                else "gunicorn (the operational store in SQLite)"
            )
            lines.append(
                f"- {load['users']} users for {load['seconds']} s against {where} (scale {load['scale']:g}, "
                f"{load['think_seconds']} s mean think time): {load['requests']:,} requests, {load['errors']} errors, "
                f"p50 {load['p50_ms']} ms, p95 {load['p95_ms']} ms, p99 {load['p99_ms']} ms."
            )
    lines += [
        "",
        "## How these are measured",
        "",
        "- A filter change is what the browser sends: the page's callback for the URL the filter bar wrote (in the "
        "browser), through `/_dash-update-component` and the whole Flask stack (session, CSRF gate, Dash, JSON), "
        "and again if the server answered with another URL (the requests column shows the most one change took). "
        "The steps are in `bench/interactions.py`; a warm-up round is not counted.",
        "- The floor runs exactly the DuckDB statements that change ran (recorded), bare, to Arrow: no polars, "
        "no figures, no HTTP. Ratios are of medians. A change answered wholly from the app's caches (England's "
        "side of the Reviews page, kept for every user) ran no statement and has no floor: it counts in p50 "
        "and p95, and in the 'from cache' column, but not in the floor or the ratio.",
        "- The naive peer (`bench/naive.py`) answers the same scope and filters from a pandas frame of the whole "
        "report table with `plotly.express` figures; `tests/bench/test_bench.py` checks its counts equal ours.",
        "- Each change is followed at once by its floor (the same statements), so noise hits both alike; the peer "
        "runs the same changes afterwards in the same process.",
    ]
    return "\n".join(lines) + "\n"


def pack_sentence(pack: dict[str, Any]) -> str:
    return (
        f"Every report page's tables for all England at 1x (`/download/pack.xlsx?pages=all`, as an administrator): "
        f"{pack['sheets']} sheets, {pack['charts']} native charts, {pack['kilobytes']} kB. The first pack took "
        f"{pack['first_seconds']} s and grew the process by {pack['memory_growth_mb']} MB at its peak (from "
        f"{pack['rss_before_mb']} MB); the median of {pack['runs']} more, {pack['seconds']} s, and "
        f"{pack['suppressed_seconds']} s for publication (`suppress=1`, with secondary suppression)."
    )


def _figure(row: dict[str, float] | None) -> str:
    return "" if row is None else f"{row['median']:g} / {row['worst']:g}"


def browser_section(
    browser: dict[str, Any], before: dict[str, Any] | None, first_run: dict[str, Any] | None = None
) -> list[str]:
    """The browser's measures, median and worst of their runs, beside the first run of this section (before)."""
    runs = browser["cold_loopback_s"]["runs"]
    lines = [
        "",
        "## In the browser: what a person waits for",
        "",
        f"Debian's Chromium (headless) against `python app.py` on the 1x store; each figure is the median / worst of "
        f"{runs} runs (a target is met by the median). Cold = a fresh browser profile; the first view is signed in "
        f"as `{browser['cdop_user']}` (the largest footprint). Filter changes alternate a click on a bar of the "
        "overview's age chart with the filter bar's reset; the heap is `admin`'s tab after opening every page from "
        "the navigation, after a garbage collection.",
    ]
    if before:
        lines += [
            "",
            f"Before: this section (the same `bench/browser.py`) run on the code before issue 15's changes, commit "
            f"`{before.get('commit', '?')}`, {before.get('date', '?')} (load average then "
            f"{before.get('load_average', '?')}; now {browser.get('load_average', '?')}).",
        ]
    if first_run:
        figures = "; ".join(
            f"{TARGETS[key][0].removeprefix('browser: ')} {_figure(figure(first_run))}"
            for key, figure in BROWSER_FIGURES.items()
        )
        lines += [
            "",
            f"The very first run of this section ({first_run.get('date', '?')}, "
            f"commit `{first_run.get('commit', '?')}`, "
            f"load average {first_run.get('load_average', '?')}) timed the same code with an earlier probe, which "
            "also counted the resize pass and the hover label described below and timed a click from the press: "
            f"{figures}.",
        ]
    lines += ["", "| measure | target | before | now | met |", "|---|---|---|---|---|"]
    for key, figure in BROWSER_FIGURES.items():
        label, target, op, limit = TARGETS[key]
        now = figure(browser)
        met = "yes" if COMPARE[op](now["median"], limit) else "**no**"
        lines.append(
            f"| {label.removeprefix('browser: ')} | {target} | {_figure(figure(before) if before else None)} "
            f"| {_figure(now)} | {met} |"
        )
    lines += ["", "| filter changes | changes | p50 (all runs) | p95 per run: median / worst |", "|---|---|---|---|"]
    for user, row in browser["filter_change_p95_ms"].items():
        lines.append(f"| {user} | {row['changes']} | {row['p50_ms']} ms | {row['median']:g} / {row['worst']:g} ms |")
    lines += [
        "",
        '"Drawn" is decided in the page: no Dash request in flight or with its body unread, no component marked '
        "loading by Dash or pending by dcc.Graph, every chart holding plotly's SVG, and no change in the document "
        "for 500 ms; the time drawn is the last change before that quiet spell (so the wait is not counted). A "
        "resize pass that only sets and clears dcc.Graph's pending mark, and plotly's hover label following the "
        "resting pointer, are not changes. Sign-in is timed from the form's submit event, a filter change from "
        "the click (the pointer's release), another page from the navigation's start; six filter changes are "
        "made untimed first (each worker's caches). "
        + (
            f"Before each press the pointer is moved onto the bar or button and rests there {browser['aim_ms']} ms, "
            "as a person's does, so what its arrival sets off (plotly's hover label) is drawn before the click (the "
            "earlier runs, and the figures before, pressed as the pointer arrived). "
            if browser.get("aim_ms")
            else ""
        )
        + f"The office link is Chromium's network emulation: {browser['office_link']['latency']} ms latency, "
        f"{browser['office_link']['downloadThroughput'] * 8 / 1e6:g} Mbit/s down and "
        f"{browser['office_link']['uploadThroughput'] * 8 / 1e6:g} Mbit/s up. Bytes are as sent (compressed when "
        "they were), from the login page to the charts drawn. Pages in the heap walk: "
        + ", ".join(browser["heap_pages"])
        + ".",
    ]
    return lines


def write_results(results: dict[str, Any], out: Path) -> str:
    text = markdown(results)
    out.mkdir(parents=True, exist_ok=True)
    (out / "results.md").write_text(text)
    (out / "results.json").write_text(json.dumps({**results, "measured": measured(results)}, indent=2))
    return text

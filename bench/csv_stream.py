"""The case-list CSV at 100k rows: time to stream it, and how much the process grows meanwhile.

Runs in a process of its own (``python -m bench.csv_stream DATA_DIR ROWS OUT``)
so its memory is its own. A worker's first case download also reads the case
columns into DuckDB's cache, which stays for the worker's life; that one-off
growth is measured on a smaller download first and reported apart. Then the
peak resident set is reset, and the growth is the new peak over the resident
set before the 100k-row download.
"""

from __future__ import annotations

import json
import sys
import time
from datetime import date
from pathlib import Path
from urllib.parse import urlencode

from bench.interactions import memory, sign_in
from dashboard.app import create_app
from queries import report
from queries.filters import Filters
from queries.scope import england_scope
from queries.store import open_readonly, use_store
from settings import load_settings


def years_for(store_path: Path, rows: int) -> tuple[list[int], int]:
    """The latest financial years that together hold at least ``rows`` deaths (all England)."""
    conn = open_readonly(store_path)
    try:
        cursor = use_store(conn.cursor())
        scope = england_scope(cursor, date.today())
        years = report.counts(cursor, scope, Filters(), ["financial_year"])
    finally:
        conn.close()
    chosen, total = [], 0
    for year, deaths in sorted(zip(years["financial_year"], years["deaths"], strict=True), reverse=True):
        chosen.append(int(year))
        total += int(deaths)
        if total >= rows:
            break
    return sorted(chosen), total


def reset_peak() -> None:
    """Start VmHWM again from the current resident set (Linux: clear_refs 5)."""
    Path("/proc/self/clear_refs").write_text("5")


def measure(data_dir: Path, rows: int) -> dict[str, float]:
    years, expected = years_for(data_dir / "deaths.duckdb", rows)
    app = create_app(load_settings({"DATA_DIR": str(data_dir)}))
    client = sign_in(app.server.test_client(), "admin", "admin-demo")
    query = urlencode([("footprint", "england"), *(("fy", str(y)) for y in years)])
    client.get("/download/by-trust.csv?" + query).close()  # open the store, fill the scope caches
    cold = memory()
    reset_peak()
    first = client.get("/download/cases.csv?" + urlencode([("footprint", "england"), ("fy", str(years[0]))]))
    first.get_data()
    first.close()
    first_growth = memory()["peak_rss_mb"] - cold["rss_mb"]
    before = memory()
    reset_peak()
    started = time.perf_counter()
    response = client.get("/download/cases.csv?" + query, buffered=False)
    size, lines = 0, 0
    for chunk in response.response:
        data = chunk if isinstance(chunk, bytes) else chunk.encode()
        size += len(data)
        lines += data.count(b"\n")
    response.close()
    seconds = time.perf_counter() - started
    after = memory()
    if response.status_code != 200 or lines - 1 != expected:
        raise RuntimeError(f"the download gave {response.status_code} with {lines - 1} rows, not {expected}")
    return {
        "rows": lines - 1,
        "megabytes": round(size / 1e6, 1),
        "seconds": round(seconds, 3),
        "memory_growth_mb": round(after["peak_rss_mb"] - before["rss_mb"], 1),
        "rss_before_mb": before["rss_mb"],
        "first_download_growth_mb": round(first_growth, 1),
    }


def main() -> None:
    data_dir, rows, out = Path(sys.argv[1]), int(sys.argv[2]), Path(sys.argv[3])
    out.write_text(json.dumps(measure(data_dir, rows), indent=2))


if __name__ == "__main__":
    main()

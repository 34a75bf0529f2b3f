"""The panel pack of every report page for all England: time to build it, and how much the process
grows meanwhile.

Runs in a process of its own (``python -m bench.pack DATA_DIR OUT``) so that its memory is its own,
on the store at the national volume (1x). The store is opened and the scope's caches filled by a
CSV first; then the peak resident set is reset, and the growth is the peak during the first pack
over the resident set before it. The time is the median of ``RUNS`` packs after that first one, as
made (suppress=0) and for publication (suppress=1, with its secondary suppression).
"""

from __future__ import annotations

import io
import json
import statistics
import sys
import time
import zipfile
from dataclasses import replace
from pathlib import Path

from bench.csv_stream import reset_peak
from bench.interactions import memory, sign_in
from dashboard.app import create_app
from settings import load_settings

RUNS = 5
PACK = "/download/pack.xlsx?pages=all&footprint=england"


def _pack(client: object, query: str) -> tuple[float, bytes]:
    started = time.perf_counter()
    response = client.get(query)  # type: ignore[attr-defined]
    data = response.get_data()
    seconds = time.perf_counter() - started
    if response.status_code != 200:
        raise RuntimeError(f"the pack gave {response.status_code}: {data[:200]!r}")
    return seconds, data


def measure(data_dir: Path, runs: int = RUNS) -> dict[str, float]:
    settings = load_settings({"DATA_DIR": str(data_dir)})
    # many packs in a minute from one user: past the download limit, which is not what is measured
    app = create_app(replace(settings, rate_limit_downloads=1_000_000))
    client = sign_in(app.server.test_client(), "admin", "admin-demo")
    client.get("/download/by-trust.csv?footprint=england").close()  # open the store, fill the scope caches
    before = memory()
    reset_peak()
    first_seconds, data = _pack(client, PACK)
    growth = memory()["peak_rss_mb"] - before["rss_mb"]
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        sheets = sum(name.startswith("xl/worksheets/sheet") for name in archive.namelist())
        charts = sum(name.startswith("xl/charts/chart") for name in archive.namelist())
    plain = [_pack(client, PACK)[0] for _ in range(runs)]
    suppressed = [_pack(client, f"{PACK}&suppress=1")[0] for _ in range(runs)]
    return {
        "sheets": sheets,
        "charts": charts,
        "kilobytes": round(len(data) / 1e3, 1),
        "first_seconds": round(first_seconds, 3),
        "seconds": round(statistics.median(plain), 3),
        "suppressed_seconds": round(statistics.median(suppressed), 3),
        "memory_growth_mb": round(growth, 1),
        "rss_before_mb": before["rss_mb"],
        "runs": runs,
    }


def main() -> None:
    data_dir, out = Path(sys.argv[1]), Path(sys.argv[2])
    out.write_text(json.dumps(measure(data_dir), indent=2))


if __name__ == "__main__":
    main()

"""``python -m bench``: the performance benchmark, written to bench/results.md and results.json.

    .venv/bin/python -m bench                 # 1x, 10x and 100x: about 5 minutes once the stores are built
    .venv/bin/python -m bench --scales 1 --quick

Stores are built once per scale and cached in bench/cache/ (100x needs about
3 GB of memory while it is built). Each scale runs in a fresh process, so the
worker memory reported is that scale's alone.
"""

from __future__ import annotations

import json
import os
import platform
import subprocess
import sys
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import click

from bench import startup
from bench.results import TARGETS, write_results
from bench.stores import CACHE, store_dir

PROJECT = Path(__file__).resolve().parent.parent
# the browser section on the code before issue 15 (python -m bench.browser DATA_DIR 5 THIS, run there)
BROWSER_BEFORE = PROJECT / "bench" / "browser_before.json"
# the very first run of it, with an earlier probe (kept for the record; see bench/results.md)
BROWSER_FIRST_RUN = PROJECT / "bench" / "browser_first_run.json"


def _in_own_process(module: str, *args: object) -> dict:
    out = CACHE / f"{module.rsplit('.', 1)[-1]}-{os.getpid()}.json"
    subprocess.run(  # noqa: S603 - our own modules
        [sys.executable, "-m", module, *map(str, args), str(out)], cwd=PROJECT, check=True
    )
    try:
        return json.loads(out.read_text())
    finally:
        out.unlink(missing_ok=True)


@click.command()
@click.option("--scales", default="1,10,100", show_default=True, help="store sizes, x national volume")
@click.option("--quick", is_flag=True, help="fewer rounds and a short load test (a smoke run, not a result)")
@click.option("--out", type=click.Path(path_type=Path), default=PROJECT / "bench", show_default=True)
def main(scales: str, quick: bool, out: Path) -> None:
    """Measure every filter change against its floor and the naive peer, and the rest of the targets."""
    chosen = [float(s) for s in scales.split(",") if s.strip()]
    started = time.monotonic()
    results: dict = {
        "date": datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC"),
        "cores": os.cpu_count(),
        "python": platform.python_version(),
        "machine": platform.machine(),
        "quick": quick,
        "targets": TARGETS,
        "scales": {},
    }
    for scale in chosen:
        data_dir = store_dir(scale)
        # enough changes for a p95 at each scale, in a bounded time
        rounds = 1 if quick else {1.0: 8, 10.0: 6}.get(scale, 4)
        peer_rounds = 1
        click.echo(f"filter changes at {scale:g}x: {rounds} rounds of ours and the floor, {peer_rounds} of the peer")
        results["scales"][f"{scale:g}"] = _in_own_process("bench.interactions", data_dir, rounds, peer_rounds)
    smallest = store_dir(min(chosen))
    click.echo("start-up: python app.py to the login page")
    results["startup_seconds"] = sorted(startup.seconds_to_login(smallest) for _ in range(3))[1]
    csv_dir = store_dir(10.0) if 10.0 in chosen or not quick else smallest
    click.echo(f"case-list CSV at 100k rows ({csv_dir.name})")
    results["case_csv"] = _in_own_process("bench.csv_stream", csv_dir, 100_000)
    click.echo("panel pack: every page, all England, 1x")
    results["pack"] = _in_own_process("bench.pack", store_dir(1.0) if 1.0 in chosen else smallest)
    users, seconds = (10, 15) if quick else (50, 120)
    click.echo(f"load test: {users} users for {seconds} s")
    results["load_test"] = _load_test(users, seconds, hosts=1)
    users = 10 if quick else 100
    click.echo(f"load test: {users} users over two hosts sharing one PostgreSQL for {seconds} s")
    results["load_test_two_hosts"] = _load_test(users, seconds, hosts=2)
    click.echo("in the browser: first view, another page, filter changes, heap")
    results["browser"] = _in_own_process(
        "bench.browser", store_dir(1.0) if 1.0 in chosen else smallest, 2 if quick else 5
    )
    for key, path in (("browser_before", BROWSER_BEFORE), ("browser_first_run", BROWSER_FIRST_RUN)):
        if path.exists():
            results[key] = json.loads(path.read_text())
    results["run_minutes"] = round((time.monotonic() - started) / 60, 1)
    markdown = write_results(results, out)
    click.echo(markdown)


def _load_test(users: int, seconds: int, hosts: int) -> dict[str, Any]:
    """``scripts/loadtest.py`` on the 1x store, in a process of its own; its summary."""
    out = CACHE / f"loadtest-{hosts}-hosts.json"
    command = [sys.executable, "scripts/loadtest.py", "--users", str(users), "--seconds", str(seconds)]
    command += ["--scale", "1", "--hosts", str(hosts), "--out", str(out)]
    subprocess.run(command, cwd=PROJECT, check=True)  # noqa: S603 - our own script
    return json.loads(out.read_text())


if __name__ == "__main__":
    main()

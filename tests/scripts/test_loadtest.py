"""The load test command itself works (a short run; the real one is documented in the README)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

PROJECT = Path(__file__).resolve().parents[2]


def test_a_short_load_test_against_gunicorn_has_no_errors(tmp_path: Path) -> None:
    out = tmp_path / "load.json"
    result = subprocess.run(
        [
            sys.executable,
            "scripts/loadtest.py",
            "--users",
            "6",
            "--seconds",
            "6",
            "--scale",
            "0.05",
            "--think",
            "0.2",
            "--out",
            str(out),
        ],
        cwd=PROJECT,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert result.returncode == 0, result.stdout[-2000:] + result.stderr[-2000:]
    report = json.loads(out.read_text())
    assert report["errors"] == 0 and report["requests"] > 20
    assert report["p50_ms"] <= report["p95_ms"] <= report["p99_ms"]


def test_the_two_host_mode_spreads_users_over_two_servers_on_one_postgresql(tmp_path: Path) -> None:
    out = tmp_path / "load.json"
    result = subprocess.run(
        [sys.executable, "scripts/loadtest.py", "--hosts", "2", "--users", "4", "--seconds", "5", "--scale", "0.05",
         "--think", "0.2", "--out", str(out)],
        cwd=PROJECT, capture_output=True, text=True, timeout=300, check=False,
    )  # fmt: skip
    assert result.returncode == 0, result.stdout[-2000:] + result.stderr[-2000:]
    report = json.loads(out.read_text())
    assert (report["hosts"], report["operational_store"]) == (2, "postgresql")
    assert report["errors"] == 0 and report["requests"] > 10

"""The command line as a person uses it: exit codes, one-line errors, no tracebacks."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.extract_rows import many, row, write_csv

PROJECT = Path(__file__).resolve().parents[2]


def run_app(data_dir: Path, *args: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "DATA_DIR": str(data_dir)}
    return subprocess.run(
        [sys.executable, "app.py", *args],
        cwd=PROJECT,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )


def test_load_exit_codes_say_what_happened(tmp_path: Path) -> None:
    data = tmp_path / "instance"
    good = run_app(data, "load", str(write_csv(tmp_path / "good.csv", many(4))))
    assert good.returncode == 0, good.stderr
    assert "read 4 rows; 4 new, 0 updated, 0 unchanged, 0 rejected" in good.stdout

    some_bad = run_app(data, "load", str(write_csv(tmp_path / "some.csv", [row("A"), row("B", sex="?")])))
    assert some_bad.returncode == 3
    assert "1 rejected" in some_bad.stdout and "rejected rows and their reasons:" in some_bad.stdout

    unusable = run_app(data, "load", str(tmp_path / "missing.csv"))
    assert unusable.returncode == 2
    assert unusable.stderr.strip().startswith("error:") and "nothing was changed" in unusable.stderr
    for result in (good, some_bad, unusable):
        assert "Traceback" not in result.stdout + result.stderr


@pytest.mark.parametrize("content", [b"", b"\x00\x01\x02" * 100, b"a,b\n1,2\n", "é".encode("latin-1") * 10])
def test_bad_files_get_one_line_and_exit_2(tmp_path: Path, content: bytes) -> None:
    path = tmp_path / "bad.csv"
    path.write_bytes(content)
    result = run_app(tmp_path / "instance", "load", str(path))
    assert result.returncode == 2
    lines = [line for line in result.stderr.splitlines() if line.strip()]
    assert len(lines) == 1 and lines[0].startswith("error:"), result.stderr
    assert "Traceback" not in result.stderr


def test_demo_writes_an_extract_that_loads_cleanly(tmp_path: Path) -> None:
    extract = tmp_path / "demo.csv"
    written = run_app(tmp_path / "instance", "demo", "--scale", "0.05", "--seed", "9", "--write-extract", str(extract))
    assert written.returncode == 0, written.stderr
    loaded = run_app(tmp_path / "instance", "load", str(extract))
    assert loaded.returncode == 0, loaded.stderr
    assert " 0 rejected" in loaded.stdout


def test_demo_builds_a_store_and_refuses_to_overwrite_real_deaths(tmp_path: Path) -> None:
    data = tmp_path / "instance"
    built = run_app(data, "demo", "--scale", "0.05")
    assert built.returncode == 0, built.stderr
    assert "SYNTHETIC" in built.stderr and (data / "deaths.duckdb").exists()
    real = run_app(data, "load", "--replace", str(write_csv(tmp_path / "real.csv", many(2))))
    assert real.returncode == 0, real.stderr
    again = run_app(data, "demo", "--scale", "0.05")
    assert again.returncode == 2 and "holds real deaths" in again.stderr
    assert run_app(data, "demo", "--scale", "0.05", "--replace").returncode == 0


def test_help_lists_the_commands(tmp_path: Path) -> None:
    result = run_app(tmp_path, "--help")
    assert result.returncode == 0
    assert all(word in result.stdout for word in ("load", "demo", "run"))


def test_account_changes_at_the_command_line_are_audited(tmp_path: Path) -> None:
    from operational import audit
    from operational import tables as operational
    from settings import load_settings

    data = tmp_path / "instance"
    env = {**os.environ, "DATA_DIR": str(data)}
    added = subprocess.run(
        [sys.executable, "app.py", "users", "add", "jo.bloggs", "--cdop", "LLR", "--password-stdin"],
        cwd=PROJECT,
        env=env,
        input="a long enough password\n",
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert added.returncode == 0, added.stderr
    assert run_app(data, "users", "grant", "jo.bloggs", "NHAM").returncode == 0
    assert run_app(data, "users", "disable", "jo.bloggs").returncode == 0
    weak = subprocess.run(
        [sys.executable, "app.py", "users", "add", "weak.one", "--cdop", "LLR", "--password-stdin"],
        cwd=PROJECT,
        env=env,
        input="short\n",
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert weak.returncode == 2 and "12 characters" in weak.stderr
    engine = operational.connect(load_settings({"DATA_DIR": str(data)}).operational_url)
    actions = [(e["detail"]["action"], e["detail"]["target"]) for e in audit.recent(engine, event="admin_action")]
    assert actions[::-1] == [("added", "jo.bloggs"), ("granted NHAM to", "jo.bloggs"), ("disabled", "jo.bloggs")]
    listed = run_app(data, "users", "list")
    assert "jo.bloggs\tcdop\tLLR, NHAM\tdisabled" in listed.stdout

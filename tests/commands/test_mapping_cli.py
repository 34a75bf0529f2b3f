"""`python app.py mapping ...`: preview by default, apply with a reason, one-line errors."""

from __future__ import annotations

import shutil
from datetime import timedelta
from pathlib import Path

import pytest

from operational import audit
from operational import tables as operational
from queries.store import open_readonly
from settings import REFERENCE_DIR
from tests.commands.test_cli import run_app
from tests.conftest import TODAY
from tests.extract_rows import row, write_csv

LATER = (TODAY + timedelta(days=400)).isoformat()  # after any real "today" the suite runs on for a year


@pytest.fixture
def data_dir(tmp_path: Path, demo_settings) -> Path:
    folder = tmp_path / "instance"
    folder.mkdir()
    shutil.copyfile(demo_settings.store_path, folder / "deaths.duckdb")
    return folder


def test_a_merger_is_previewed_then_applied_with_a_reason(data_dir: Path) -> None:
    merge = ("mapping", "merge", "LLR", "NHAM", "--code", "EMCD", "--name", "East Midlands CDOP", "--date", LATER)
    preview = run_app(data_dir, *merge)
    assert preview.returncode == 0, preview.stderr
    assert "CDOP EMCD: - -> East Midlands CDOP" in preview.stdout and "preview only" in preview.stdout
    no_reason = run_app(data_dir, *merge, "--apply")
    assert no_reason.returncode == 2 and "give a reason" in no_reason.stderr
    applied = run_app(data_dir, *merge, "--apply", "--reason", "ICB clustering")
    assert applied.returncode == 0, applied.stderr
    assert "applied as revision 2" in applied.stdout
    shown = run_app(data_dir, "mapping", "show", "--date", LATER)
    assert "EMCD\tEast Midlands CDOP" in shown.stdout and "\tLLR\t" not in shown.stdout
    history = run_app(data_dir, "mapping", "history", "--cdop", "LLR")
    assert "retired by revision 2" in history.stdout and f"\t{LATER}\t" in history.stdout
    revisions = run_app(data_dir, "mapping", "history")
    assert "\tmerge\t" in revisions.stdout and "ICB clustering" in revisions.stdout
    # a later extract may name the new CDOP as the reviewer; it is then named in the report
    extract = write_csv(data_dir.parent / "x.csv", [row("SYN-EMCD-1", reviewing_cdop_code="EMCD")])
    loaded = run_app(data_dir, "load", str(extract))
    assert loaded.returncode == 0, loaded.stdout + loaded.stderr
    conn = open_readonly(data_dir / "deaths.duckdb")
    try:
        names = conn.execute(
            "SELECT DISTINCT reviewing_cdop_name FROM report_facts WHERE reviewing_cdop_code = 'EMCD'"
        ).fetchall()
        per_code = conn.execute("SELECT count(*) = count(DISTINCT cdop_code) FROM ref_cdops").fetchall()[0][0]
    finally:
        conn.close()
    assert names == [("East Midlands CDOP",)] and per_code
    granted = run_app(data_dir, "users", "grant", "nobody", "EMCD")  # the new CDOP is known to the users commands
    assert granted.returncode == 2 and "no user 'nobody'" in granted.stderr
    engine = operational.connect(f"sqlite:///{data_dir / 'operational.sqlite'}")
    actions = [e for e in audit.recent(engine, event="admin_action") if e["detail"]["action"] != "load"]
    entry = actions[0]
    assert entry["username"].startswith("cli:") and entry["detail"]["action"] == "mapping merge"
    assert entry["detail"]["reason"] == "ICB clustering" and entry["detail"]["revision"] == 2


def test_bad_changes_say_why_and_change_nothing(data_dir: Path, tmp_path: Path) -> None:
    cases = [
        (("mapping", "move", "ZZZ", "--to", "NCL", "--date", LATER), "ZZZ is not a known English trust code"),
        (("mapping", "rename", "LLR", "--name", "X", "--date", "2001-01-01"), "in the past"),
        (("mapping", "merge", "LLR", "--code", "Q1", "--name", "Q", "--date", LATER), "at least two"),
        (("mapping", "move", "RWE", "--to", "NCL", "--date", "soon"), "YYYY-MM-DD"),
    ]
    bad_csv = tmp_path / "bad.csv"
    bad_csv.write_text("trust_code,cdop_code,valid_from,valid_to\nRWE,LLR,2019-13-01,\nXX,LLR,2019-04-01,\n")
    cases.append((("mapping", "import", str(bad_csv), "--apply", "--reason", "official"), "row 2: valid_from"))
    for args, message in cases:
        result = (
            run_app(data_dir, *args, "--apply", "--reason", "testing")
            if "import" not in args
            else run_app(data_dir, *args)
        )
        assert result.returncode == 2, (args, result.stdout, result.stderr)
        assert message in result.stderr and "nothing was changed" in result.stderr, (args, result.stderr)
        assert "Traceback" not in result.stderr
    assert run_app(data_dir, "mapping", "history").stdout.count("\n") == 1  # only the seed


def test_importing_the_reference_file_changes_nothing(data_dir: Path) -> None:
    result = run_app(
        data_dir,
        "mapping",
        "import",
        str(REFERENCE_DIR / "footprint.csv"),
        "--apply",
        "--reason",
        "the same file again",
    )
    assert result.returncode == 2 and "changes nothing" in result.stderr

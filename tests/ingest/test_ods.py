"""Refreshing trusts and sites from ODS etr.csv / ets.csv: the diff, the uncovered-trust flag, and the CLI."""

from __future__ import annotations

import csv
import io
import shutil
from dataclasses import replace
from datetime import date
from pathlib import Path

import pytest

from ingest import ods
from queries.mapping import mapping_from_store
from queries.store import open_readonly
from tests.commands.test_cli import run_app
from tests.conftest import TODAY
from tests.extract_rows import row, write_csv


def ods_row(code: str, name: str, opened: str = "20000401", closed: str = "") -> list[str]:
    return [code, name, "Y60", "QK1", "1 HIGH ST", "", "TOWN", "", "", "LE1 1AA", opened, closed, *[""] * 15]


def write(path: Path, rows: list[list[str]]) -> Path:
    with path.open("w", newline="") as handle:
        csv.writer(handle).writerows(rows)
    return path


TRUSTS = [
    ods_row("RWE", "UNIVERSITY HOSPITALS OF LEICESTER AND RUTLAND NHS TRUST"),  # renamed
    ods_row("RJ1", "GUY'S AND ST THOMAS' NHS FOUNDATION TRUST"),  # unchanged
    ods_row("RZZ", "NEW VALLEY NHS TRUST", "20260101"),  # new
]
SITES = [
    ods_row("RWEAA", "LEICESTER ROYAL INFIRMARY"),
    ods_row("RJ1E7", "GSTT @ MARY SHERIDAN CHILD HEALTH CLINIC", closed="20250101"),  # closed
    ods_row("RZZ01", "NEW VALLEY HOSPITAL", "20260101"),  # new, of the new trust
    ods_row("QQQ01", "SOMEWHERE ELSE"),  # a trust neither known nor in etr.csv: skipped
]


def test_the_diff_says_what_is_new_renamed_and_closed(conn) -> None:
    found = ods.diff(
        conn,
        ods.read_ods(_bytes(TRUSTS), "trusts"),
        ods.read_ods(_bytes(SITES), "sites"),
        mapping_from_store(conn),
        TODAY,
    )
    assert found.new_trusts == [("RZZ", "New Valley NHS Trust")]
    assert found.renamed_trusts == [
        (
            "RWE",
            "University Hospitals of Leicester NHS Trust",
            "University Hospitals of Leicester and Rutland NHS Trust",
        )
    ]
    assert found.new_sites == [("RZZ01", "New Valley Hospital", "RZZ")]
    assert found.closed_sites == [("RJ1E7", "GSTT @ Mary Sheridan Child Health Clinic", date(2025, 1, 1))]
    assert found.renamed_sites == [] and found.skipped_sites == 1
    assert found.uncovered == []  # every trust with an inpatient site is in some footprint today


def test_trusts_with_inpatient_sites_and_no_cdop_are_flagged(conn) -> None:
    mapping = mapping_from_store(conn)
    without = replace(mapping, footprint=tuple(r for r in mapping.footprint if r.trust_code != "RWE"))
    found = ods.diff(conn, ods.read_ods(_bytes(TRUSTS), "trusts"), ods.read_ods(_bytes(SITES), "sites"), without, TODAY)
    assert [(code, sites) for code, _name, sites in found.uncovered] == [("RWE", "RWEAA")]
    assert any(line.startswith("NOT IN ANY CDOP FOOTPRINT: trust RWE") for line in found.lines())


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (b"", "has no rows"),
        (b"code,name\n", "2 columns"),
        (b"R,NAME," + b"," * 12 + b"\n", "not a 3-character ODS code"),
        (b"RWE,NAME,Y60,QK1,,,,,,LE1,2019-04-01,," + b"\n", "not a date as YYYYMMDD"),
    ],
)
def test_files_that_are_not_ods_say_why(content: bytes, message: str) -> None:
    with pytest.raises(ods.OdsUnusable, match=message):
        ods.read_ods(content, "trusts")


def test_the_command_previews_applies_and_later_loads_keep_the_refresh(tmp_path: Path, demo_settings) -> None:
    data = tmp_path / "instance"
    data.mkdir()
    shutil.copyfile(demo_settings.store_path, data / "deaths.duckdb")
    etr, ets = write(tmp_path / "etr.csv", TRUSTS), write(tmp_path / "ets.csv", SITES)
    args = ("reference", "import-ods", "--trusts", str(etr), "--sites", str(ets))
    preview = run_app(data, *args)
    assert preview.returncode == 0, preview.stderr
    assert "1 new trusts, 1 renamed, 0 closed" in preview.stdout and "preview only" in preview.stdout
    assert not (data / "reference").exists()
    applied = run_app(data, *args, "--apply")
    assert applied.returncode == 0, applied.stderr
    assert (data / "reference" / "trusts.csv").exists()
    conn = open_readonly(data / "deaths.duckdb")
    try:
        names = dict(conn.execute("SELECT trust_code, trust_name FROM ref_trusts").fetchall())
        closed = conn.execute("SELECT closed FROM ref_sites WHERE site_code = 'RJ1E7'").fetchall()[0][0]
        deaths = conn.execute("SELECT count(*) FROM report_facts WHERE trust_name LIKE '%and Rutland%'").fetchall()[0][
            0
        ]
    finally:
        conn.close()
    assert names["RZZ"] == "New Valley NHS Trust" and closed == date(2025, 1, 1) and deaths > 0
    # a later load reads the refreshed tables: an extract naming the new site now loads
    extract = write_csv(tmp_path / "x.csv", [row("SYN-NEW-1", site_code="RZZ01", place_in_hospital="other_ward")])
    loaded = run_app(data, "load", str(extract))
    assert loaded.returncode == 0, loaded.stdout + loaded.stderr
    conn = open_readonly(data / "deaths.duckdb")
    try:
        assert (
            conn.execute("SELECT trust_name FROM ref_trusts WHERE trust_code = 'RWE'")
            .fetchall()[0][0]
            .endswith("and Rutland NHS Trust")
        )
    finally:
        conn.close()
    bad = run_app(data, "reference", "import-ods", "--trusts", str(ets), "--sites", str(ets))
    assert bad.returncode == 2 and "not a 3-character ODS code" in bad.stderr and "Traceback" not in bad.stderr


def _bytes(rows: list[list[str]]) -> bytes:
    out = io.StringIO()
    csv.writer(out).writerows(rows)
    return out.getvalue().encode()

"""Loading extracts: validation, quarantine, upserts, atomicity and bad files."""

from __future__ import annotations

import codecs
import csv
import hashlib
from pathlib import Path

import duckdb
import polars as pl
import pytest
from openpyxl import Workbook

from ingest import loader
from ingest.extract import PROGRESS_FROM_BYTES, ExtractUnusable
from ingest.loader import load_file
from queries.store import StoreBusy, open_readonly, rewrite
from settings import Settings
from tests.extract_rows import many, row, write_csv


def deaths(settings: Settings) -> list[tuple]:
    conn = open_readonly(settings.store_path)
    try:
        return conn.execute("SELECT * FROM deaths ORDER BY case_id").fetchall()
    finally:
        conn.close()


def file_digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def test_a_valid_extract_loads_and_loading_it_again_changes_nothing(tmp_path: Path, fresh_settings: Settings) -> None:
    extract = write_csv(tmp_path / "extract.csv", many(20))
    first = load_file(extract, fresh_settings, progress=False)
    assert (first.rows_read, first.rows_new, first.rows_rejected, first.exit_code) == (20, 20, 0, 0)
    before = deaths(fresh_settings)
    second = load_file(extract, fresh_settings, progress=False)
    assert (second.rows_new, second.rows_updated, second.rows_unchanged) == (0, 0, 20)
    assert deaths(fresh_settings) == before


def test_a_newer_extract_updates_only_the_cases_that_changed(tmp_path: Path, fresh_settings: Settings) -> None:
    rows = many(10)
    load_file(write_csv(tmp_path / "a.csv", rows), fresh_settings, progress=False)
    rows[3] = row(rows[3]["case_id"], review_status="under_review", review_completed_date="", category_of_death="")
    rows.append(row("NCMD-NEW"))
    summary = load_file(write_csv(tmp_path / "b.csv", rows), fresh_settings, progress=False)
    assert (summary.rows_new, summary.rows_updated, summary.rows_unchanged) == (1, 1, 9)
    conn = open_readonly(fresh_settings.store_path)
    status = conn.execute("SELECT review_status, category_of_death FROM deaths WHERE case_id = 'NCMD-00003'").fetchall()
    total = conn.execute("SELECT count(*) FROM deaths").fetchall()[0][0]
    conn.close()
    assert status == [("under_review", None)]
    assert total == 11


def test_rejected_rows_are_quarantined_with_their_row_number_and_every_reason(
    tmp_path: Path, fresh_settings: Settings
) -> None:
    rows = [
        row("OK-1"),
        row("BAD-1", sex="boy", site_code="ZZZ99", category_of_death="12"),
        row("OK-2"),
    ]
    summary = load_file(write_csv(tmp_path / "x.csv", rows), fresh_settings, progress=False)
    assert (summary.rows_new, summary.rows_rejected, summary.exit_code) == (2, 1, 3)
    report = pl.read_csv(summary.report_path, infer_schema=False)
    assert report["source_row"].to_list() == ["3"]  # the header is row 1
    reasons = report["reasons"][0]
    assert "sex 'boy'" in reasons and "site_code 'ZZZ99'" in reasons and "category_of_death '12'" in reasons
    conn = open_readonly(fresh_settings.store_path)
    stored = conn.execute("SELECT source_row, case_id, reasons FROM quarantine").fetchall()
    conn.close()
    assert stored == [(3, "BAD-1", reasons)]


BAD_ROWS = [
    ({"case_id": ""}, "case_id is missing"),
    ({"case_id": "=cmd|' /C calc'!A0"}, "case_id"),
    ({"date_of_death": "31/02/2024"}, "date_of_death '31/02/2024' is not a date"),
    ({"date_of_death": "2007-01-01", "notification_date": "2007-01-02"}, "before 01 April 2008"),
    ({"date_of_death": "2999-01-01", "notification_date": "2999-01-01"}, "date_of_death is in the future"),
    ({"notification_date": "2024-04-30"}, "notification_date is before date_of_death"),
    ({"age_at_death_days": "-1"}, "not a whole number of days"),
    ({"age_at_death_days": "6575"}, "18 or older"),
    ({"ethnic_group": "martian"}, "ethnic_group 'martian'"),
    ({"imd_decile": "11"}, "imd_decile '11'"),
    ({"place_of_death_type": "car park"}, "place_of_death_type 'car_park'"),
    ({"site_code": ""}, "site_code is missing for a death in hospital"),
    ({"place_of_death_type": "home"}, "site_code is given but place_of_death_type is 'home'"),
    ({"place_in_hospital": "roof"}, "place_in_hospital 'roof'"),
    ({"residence_la_code": "E07000008"}, "residence_la_code 'E07000008'"),
    ({"reviewing_cdop_code": "NOPE"}, "reviewing_cdop_code 'NOPE'"),
    ({"expected_death": "perhaps"}, "expected_death 'perhaps'"),
    ({"review_status": "finished"}, "review_status 'finished'"),
    ({"review_completed_date": ""}, "review_completed_date is missing for a completed review"),
    ({"review_status": "notified"}, "review_completed_date is given but review_status is not completed"),
    ({"review_completed_date": "2024-04-01"}, "review_completed_date is before date_of_death"),
    ({"category_of_death": ""}, "category_of_death is missing for a completed review"),
    ({"review_status": "under_review", "review_completed_date": ""}, "category_of_death is given but"),
]


@pytest.mark.parametrize(("changes", "reason"), BAD_ROWS, ids=[r for _, r in BAD_ROWS])
def test_each_rule_rejects_with_a_clear_reason(
    tmp_path: Path, fresh_settings: Settings, changes: dict[str, str], reason: str
) -> None:
    rows = [row("GOOD-1"), {**row("BAD-1"), **changes}]
    summary = load_file(write_csv(tmp_path / "x.csv", rows), fresh_settings, progress=False)
    assert summary.rows_rejected == 1 and summary.rows_new == 1
    assert reason in pl.read_csv(summary.report_path, infer_schema=False)["reasons"][0]


def test_duplicate_case_ids_in_one_file_are_all_rejected(tmp_path: Path, fresh_settings: Settings) -> None:
    rows = [row("DUP"), row("DUP", sex="female"), row("ONE")]
    summary = load_file(write_csv(tmp_path / "x.csv", rows), fresh_settings, progress=False)
    assert (summary.rows_new, summary.rows_rejected) == (1, 2)


def test_common_spellings_of_codes_are_accepted(tmp_path: Path, fresh_settings: Settings) -> None:
    rows = [
        row(
            "A",
            sex="F",
            expected_death="Y",
            review_status="Review completed",
            place_in_hospital="NICU",
            date_of_death="01/05/2024",
            site_code="rweaa",
        )
    ]
    summary = load_file(write_csv(tmp_path / "x.csv", rows), fresh_settings, progress=False)
    assert summary.rows_new == 1
    stored = deaths(fresh_settings)[0]
    assert ("female" in stored) and ("RWEAA" in stored) and ("nicu" in stored)


def test_rejected_values_that_look_like_formulas_are_neutralised_in_the_report(
    tmp_path: Path, fresh_settings: Settings
) -> None:
    rows = [row("OK"), row("BAD", sex='=HYPERLINK("http://x")')]
    summary = load_file(write_csv(tmp_path / "x.csv", rows), fresh_settings, progress=False)
    with summary.report_path.open(newline="", encoding="utf-8") as handle:
        cells = [cell for record in csv.reader(handle) for cell in record]
    assert not any(cell.startswith(("=", "+", "-", "@")) for cell in cells)
    assert '\'=HYPERLINK("http://x")' in cells


def test_an_xlsx_extract_loads_like_the_csv(tmp_path: Path, fresh_settings: Settings) -> None:
    from datetime import date

    book = Workbook()
    sheet = book.active
    columns = list(row().keys())
    sheet.append(columns)
    for i in range(3):
        values = row(f"X-{i}")
        values_typed: list[object] = [values[c] for c in columns]
        values_typed[columns.index("date_of_death")] = date(2024, 5, 1)  # a real date cell
        values_typed[columns.index("age_at_death_days")] = 3.0  # Excel numbers are floats
        sheet.append(values_typed)
    sheet.append([None] * len(columns))  # trailing blank rows are ignored
    book.save(tmp_path / "extract.xlsx")
    summary = load_file(tmp_path / "extract.xlsx", fresh_settings, progress=False)
    assert (summary.rows_read, summary.rows_new, summary.rows_rejected) == (3, 3, 0)


def test_a_failure_midway_leaves_the_previous_store_exactly_as_it_was(
    tmp_path: Path, fresh_settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    load_file(write_csv(tmp_path / "a.csv", many(5)), fresh_settings, progress=False)
    before_bytes = file_digest(fresh_settings.store_path)
    before_rows = deaths(fresh_settings)

    def explode(*_args: object) -> None:
        raise RuntimeError("disk on fire")

    monkeypatch.setattr(loader, "_quarantine", explode)
    with pytest.raises(RuntimeError, match="disk on fire"):
        load_file(write_csv(tmp_path / "b.csv", many(50, prefix="LATE")), fresh_settings, progress=False)
    assert file_digest(fresh_settings.store_path) == before_bytes
    assert deaths(fresh_settings) == before_rows
    leftovers = [p.name for p in fresh_settings.data_dir.iterdir() if ".new-" in p.name]
    assert leftovers == []


def test_a_second_writer_is_refused_while_one_is_writing(fresh_settings: Settings) -> None:
    with rewrite(fresh_settings.store_path) as conn:
        conn.execute("CREATE TABLE t (x INTEGER)")
        with pytest.raises(StoreBusy), rewrite(fresh_settings.store_path):
            pass


def test_synthetic_and_real_deaths_never_share_a_store(tmp_path: Path, fresh_settings: Settings) -> None:
    load_file(write_csv(tmp_path / "real.csv", many(3)), fresh_settings, progress=False)
    with pytest.raises(ExtractUnusable, match="holds real deaths and this extract is synthetic"):
        load_file(write_csv(tmp_path / "syn.csv", many(3, prefix="SYN-1")), fresh_settings, progress=False)
    with pytest.raises(ExtractUnusable, match="mixes synthetic"):
        load_file(write_csv(tmp_path / "mix.csv", [row("SYN-1-1"), row("REAL-1")]), fresh_settings, progress=False)
    replaced = load_file(tmp_path / "syn.csv", fresh_settings, replace=True, progress=False)
    assert replaced.synthetic and replaced.rows_new == 3
    assert len(deaths(fresh_settings)) == 3


def test_extra_columns_are_ignored_and_named(tmp_path: Path, fresh_settings: Settings) -> None:
    rows = [{**row("A"), "nhs_number": "should never be loaded"}]
    path = write_csv(tmp_path / "x.csv", rows, columns=(*row().keys(), "nhs_number"))
    summary = load_file(path, fresh_settings, progress=False)
    assert summary.ignored_columns == ("nhs_number",)
    assert "nhs_number" in summary.describe()
    conn = open_readonly(fresh_settings.store_path)
    columns = [r[0] for r in conn.execute("DESCRIBE deaths").fetchall()]
    conn.close()
    assert "nhs_number" not in columns


def write_bytes(path: Path, data: bytes) -> Path:
    path.write_bytes(data)
    return path


def unusable_files(tmp_path: Path) -> dict[str, tuple[Path, str]]:
    header = ",".join(row().keys()).encode()
    good_line = ",".join(row().values()).encode()
    huge = tmp_path / "huge.csv"
    with huge.open("wb") as handle:  # a sparse 1 GB file: no disk is used
        handle.write(header + b"\n")
        handle.truncate(1_000_000_000)
    return {
        "empty": (write_bytes(tmp_path / "empty.csv", b""), "the file is empty"),
        "header only": (write_bytes(tmp_path / "header.csv", header + b"\n"), "has a header but no rows"),
        "wrong columns": (write_bytes(tmp_path / "cols.csv", b"a,b,c\n1,2,3\n"), "none of the extract's columns"),
        "missing columns": (
            write_bytes(tmp_path / "some.csv", b"case_id,date_of_death\nA,2024-01-01\n"),
            "missing columns:",
        ),
        "binary": (
            write_bytes(tmp_path / "photo.csv", b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR" * 50),
            "looks like a binary file",
        ),
        "not utf-8": (
            write_bytes(tmp_path / "latin1.csv", header + b"\n" + good_line.replace(b"white", b"wh\xe9te")),
            "line 2 is not UTF-8",
        ),
        "utf-16": (write_bytes(tmp_path / "u16.csv", codecs.BOM_UTF16_LE + "case_id\n".encode("utf-16-le")), "UTF-16"),
        "corrupt xlsx": (
            write_bytes(tmp_path / "broken.xlsx", b"PK\x03\x04" + b"\x00garbage" * 100),
            "not a readable XLSX",
        ),
        "1 GB": (huge, "over the 800 MB limit"),
        "missing": (tmp_path / "nowhere.csv", "no such file"),
        "folder": (tmp_path, "not a file"),
    }


@pytest.mark.parametrize(
    "case",
    [
        "empty",
        "header only",
        "wrong columns",
        "missing columns",
        "binary",
        "not utf-8",
        "utf-16",
        "corrupt xlsx",
        "1 GB",
        "missing",
        "folder",
    ],
)
def test_unusable_files_get_one_clear_line_and_change_nothing(
    tmp_path: Path, fresh_settings: Settings, case: str
) -> None:
    load_file(write_csv(tmp_path / "seed.csv", many(2)), fresh_settings, progress=False)
    before = file_digest(fresh_settings.store_path)
    path, message = unusable_files(tmp_path)[case]
    with pytest.raises(ExtractUnusable) as caught:
        load_file(path, fresh_settings, progress=False)
    text = str(caught.value)
    assert message in text
    assert "\n" not in text
    assert file_digest(fresh_settings.store_path) == before


def test_a_large_file_shows_progress(tmp_path: Path, fresh_settings: Settings, capsys: pytest.CaptureFixture) -> None:
    path = write_csv(tmp_path / "big.csv", many(5))
    with path.open("a", encoding="utf-8") as handle:  # pad past the progress threshold with valid rows
        count = 0
        while handle.tell() < PROGRESS_FROM_BYTES + 1000:
            values = row(f"PAD-{count:07d}")
            handle.write(",".join(values.values()) + "\n")
            count += 1
    summary = load_file(path, fresh_settings, progress=True)
    assert summary.rows_rejected == 0
    err = capsys.readouterr().err
    assert "checking" in err and "validating" in err and "writing the deaths store" in err


def test_the_store_is_readable_while_loads_happen(tmp_path: Path, fresh_settings: Settings) -> None:
    load_file(write_csv(tmp_path / "a.csv", many(3)), fresh_settings, progress=False)
    reader = open_readonly(fresh_settings.store_path)
    try:
        load_file(write_csv(tmp_path / "b.csv", many(6)), fresh_settings, progress=False)
        assert reader.execute("SELECT count(*) FROM deaths").fetchall()[0][0] == 3  # its snapshot
    finally:
        reader.close()
    assert len(deaths(fresh_settings)) == 6
    with pytest.raises(duckdb.Error):
        duckdb.connect(str(tmp_path / "not-a-store.duckdb"), read_only=True)

"""queries.admin: what the administrators' pages read from the deaths store,
checked on a store of two small loads and on the demo store's reference tables."""

from __future__ import annotations

from collections.abc import Iterator

import duckdb
import polars as pl
import pytest

from ingest.loader import load_file
from queries import admin
from queries.schema import HOSPITAL_UNITS
from queries.store import open_readonly
from tests.conftest import settings_for
from tests.extract_rows import row, write_csv


@pytest.fixture(scope="module")
def loaded(tmp_path_factory: pytest.TempPathFactory) -> Iterator[duckdb.DuckDBPyConnection]:
    """A store of two loads: the first rejects one row (an unknown sex), the second none."""
    folder = tmp_path_factory.mktemp("admin-store")
    settings = settings_for(folder / "instance")
    load_file(write_csv(folder / "first.csv", [row("A"), row("B", sex="?")]), settings, progress=False)
    load_file(write_csv(folder / "second.csv", [row("A"), row("C")]), settings, progress=False)
    conn = open_readonly(settings.store_path)
    yield conn
    conn.close()


def test_load_runs_are_newest_first_with_their_counts(loaded: duckdb.DuckDBPyConnection) -> None:
    runs = admin.load_runs(loaded)
    assert runs["load_id"].to_list() == [2, 1]
    assert runs["source_name"].to_list() == ["second.csv", "first.csv"]
    assert runs["rows_rejected"].to_list() == [0, 1]
    assert runs["rows_new"].to_list() == [1, 1]  # C; A (B was rejected)
    assert runs["synthetic"].to_list() == [False, False]
    assert runs.schema["finished"] == pl.String and len(runs["finished"][0]) == len("2026-01-01 00:00")


def test_rejected_rows_are_one_loads_only_by_row_number(loaded: duckdb.DuckDBPyConnection) -> None:
    first = admin.rejected_rows(loaded, 1)
    assert first.columns == ["source_row", "reasons"]
    assert first["source_row"].to_list() == [3]  # the header is row 1
    assert "sex" in first["reasons"][0]
    assert admin.rejected_rows(loaded, 2).height == 0
    assert admin.rejected_rows(loaded, 99).height == 0


def test_reference_summaries_agree_with_the_tables(conn: duckdb.DuckDBPyConnection) -> None:
    trusts, sites = admin.english_counts(conn)
    expected = conn.execute(
        "SELECT (SELECT count(*) FROM ref_trusts WHERE country = 'England'), "
        "(SELECT count(*) FROM ref_sites WHERE country = 'England')"
    ).fetchall()[0]
    assert (trusts, sites) == expected and trusts > 0 and sites > 0

    english = admin.trust_names(conn, england_only=True)
    every = admin.trust_names(conn)
    assert english and set(english) <= set(every)
    assert all(every[code] == name for code, name in english.items())

    inpatient = admin.inpatient_trusts(conn)
    assert inpatient.columns == ["trust_code", "trust_name", "sites"]
    assert inpatient["trust_code"].to_list() == sorted(inpatient["trust_code"].to_list())
    hospital = admin.hospital_trust_codes(conn)
    # every trust listed with inpatient sites is an English hospital trust, named as in ref_trusts
    assert set(inpatient["trust_code"]) <= hospital <= set(english)
    assert all(
        english[code] == name for code, name in zip(inpatient["trust_code"], inpatient["trust_name"], strict=True)
    )
    units = " OR ".join(HOSPITAL_UNITS)
    site_code = conn.execute(
        f"SELECT site_code FROM ref_sites WHERE country = 'England' AND closed IS NULL AND ({units}) LIMIT 1"
    ).fetchall()[0][0]
    assert any(site_code in text for text in inpatient["sites"])


def test_only_a_synthetic_store_of_an_older_format_counts_as_an_outdated_demo(tmp_path, demo_settings) -> None:
    import shutil

    from queries.schema import set_meta

    assert not admin.outdated_demo(tmp_path / "nothing.duckdb")
    assert not admin.outdated_demo(demo_settings.store_path)  # synthetic, current format
    old_demo = tmp_path / "old-demo.duckdb"
    shutil.copyfile(demo_settings.store_path, old_demo)
    with duckdb.connect(str(old_demo)) as conn:
        set_meta(conn, "schema_version", "3")
    assert admin.outdated_demo(old_demo)
    real = settings_for(tmp_path / "real")
    load_file(write_csv(tmp_path / "real.csv", [row("A")]), real, progress=False)
    with duckdb.connect(str(real.store_path)) as conn:
        set_meta(conn, "schema_version", "3")
    assert not admin.outdated_demo(real.store_path)  # real deaths are never rebuilt

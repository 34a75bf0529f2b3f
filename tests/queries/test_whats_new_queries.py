"""What's new and attention flags in the query layer: two loads, crafted cases, each flag on and off."""

from __future__ import annotations

from datetime import date, datetime
from pathlib import Path

import duckdb
import pytest

from ingest.loader import load_file
from queries import flags, report, whatsnew
from queries.filters import Filters
from queries.schema import SCHEMA_VERSION, get_meta
from queries.scope import cdop_scope
from queries.store import open_readonly, rewrite
from settings import Settings
from tests.extract_rows import row, write_csv

DAY = date(2025, 6, 30)  # the day the flags measure time to
LEICESTER, CAMDEN, LIVERPOOL = "E06000016", "E09000007", "E08000012"


def older(case_id: str, **changes: str) -> dict[str, str]:
    """A case in Leicester Royal Infirmary (LLR's footprint)."""
    return row(case_id, **changes)


def in_ncl(case_id: str, **changes: str) -> dict[str, str]:
    """A case in Great Ormond Street (NCL's footprint, not LLR's)."""
    return row(case_id, site_code="RP401", residence_la_code=CAMDEN, reviewing_cdop_code="NCL", **changes)


FIRST = [older(f"OLD-{i}") for i in range(5)] + [in_ncl("OLD-NCL")]
ADDED_LLR = [
    older("NEW-RES"),  # a resident, reviewed by LLR
    older("NEW-AWAY", residence_la_code=CAMDEN, reviewing_cdop_code="NCL"),  # non-resident reviewed elsewhere
    older(
        "NEW-UNASSIGNED",
        reviewing_cdop_code="",
        review_status="notified",
        review_completed_date="",
        category_of_death="",
    ),
]
ADDED_NCL = [in_ncl("NEW-NCL")]


def case_refs(conn: duckdb.DuckDBPyConnection, case_ids: list[str]) -> set[str]:
    rows = conn.execute("SELECT case_ref FROM deaths WHERE list_contains(?, case_id)", [case_ids]).fetchall()
    return {r[0] for r in rows}


@pytest.fixture
def two_loads(tmp_path: Path, fresh_settings: Settings) -> tuple[Settings, datetime]:
    """Load an extract, note the mark a first visit would set, then load a newer
    extract that changes two cases and adds four (three in LLR's hospitals)."""
    load_file(write_csv(tmp_path / "first.csv", FIRST), fresh_settings, progress=False)
    conn = open_readonly(fresh_settings.store_path)
    mark = whatsnew.latest_load(conn)
    conn.close()
    assert mark is not None
    second = [*FIRST, *ADDED_LLR, *ADDED_NCL]
    second[0] = older("OLD-0", review_status="under_review", review_completed_date="", category_of_death="")
    second[5] = in_ncl("OLD-NCL", place_in_hospital="picu")
    summary = load_file(write_csv(tmp_path / "second.csv", second), fresh_settings, progress=False)
    assert (summary.rows_new, summary.rows_updated, summary.rows_unchanged) == (4, 2, 4)
    return fresh_settings, mark


def test_exactly_the_added_cases_in_the_footprint_are_new(two_loads: tuple[Settings, datetime]) -> None:
    settings, mark = two_loads
    conn = open_readonly(settings.store_path)
    try:
        llr = cdop_scope(conn, ["LLR"], DAY)
        ncl = cdop_scope(conn, ["NCL"], DAY)
        assert whatsnew.new_count(conn, llr, mark) == 3
        listed = whatsnew.new_cases(conn, llr, mark, flags.AttentionRule(as_at=DAY))
        assert set(listed["case_ref"]) == case_refs(conn, [r["case_id"] for r in ADDED_LLR])
        assert whatsnew.new_count(conn, ncl, mark) == 1  # NCL's own addition; its changed case is not new
        assert set(whatsnew.new_cases(conn, ncl, mark, flags.AttentionRule())["case_ref"]) == case_refs(
            conn, ["NEW-NCL"]
        )
        before_any = datetime(2000, 1, 1)
        assert whatsnew.new_count(conn, llr, before_any) == 8  # every case in LLR's hospitals, old and new
        assert whatsnew.new_count(conn, llr, whatsnew.latest_load(conn)) == 0
    finally:
        conn.close()


def test_a_changed_case_keeps_the_load_that_first_brought_it(two_loads: tuple[Settings, datetime]) -> None:
    settings, _mark = two_loads
    conn = open_readonly(settings.store_path)
    try:
        loads = dict(conn.execute("SELECT case_id, (first_load_id, load_id) FROM deaths").fetchall())
    finally:
        conn.close()
    assert loads["OLD-0"] == (1, 2)  # changed by the second load, first brought by the first
    assert loads["OLD-1"] == (1, 1)
    assert loads["NEW-RES"] == (2, 2)


def test_new_deaths_are_grouped_by_who_reviews_them(two_loads: tuple[Settings, datetime]) -> None:
    settings, mark = two_loads
    conn = open_readonly(settings.store_path)
    try:
        listed = whatsnew.new_cases(conn, cdop_scope(conn, ["LLR"], DAY), mark, flags.AttentionRule(as_at=DAY))
        refs = {
            case_id: next(iter(case_refs(conn, [case_id]))) for case_id in ("NEW-RES", "NEW-AWAY", "NEW-UNASSIGNED")
        }
    finally:
        conn.close()
    groups = dict(zip(listed["case_ref"], listed["group_code"], strict=True))
    assert groups == {refs["NEW-AWAY"]: "elsewhere", refs["NEW-UNASSIGNED"]: "unassigned", refs["NEW-RES"]: "residents"}
    assert listed["group_code"].to_list() == ["elsewhere", "unassigned", "residents"]  # the page's order
    away = listed.row(0, named=True)
    assert away["group"] == "Non-residents reviewed by another CDOP"
    assert (away["site_name"], away["place"], away["age_group"]) == (
        "Leicester Royal Infirmary",
        "Neonatal intensive care unit (level 3)",
        "0-27 days",
    )
    assert away["reviewing_cdop"] == "North Central London CDOP"
    assert away["days_since_notification"] == (DAY - date(2024, 5, 2)).days


# ------------------------------------------------------------------ attention flags

FLAGGED = {
    # no reviewing CDOP 31 days after notification (30 allowed)
    "UNASSIGNED-LATE": older(
        "UNASSIGNED-LATE",
        date_of_death="2025-05-29",
        notification_date="2025-05-30",
        reviewing_cdop_code="",
        review_status="notified",
        review_completed_date="",
        category_of_death="",
    ),
    # a Leicester child in Leicester, reviewed by Kent and Medway
    "ELSEWHERE": older("ELSEWHERE", reviewing_cdop_code="KMED"),
    # still under review 13 months after notification
    "OPEN-LONG": older(
        "OPEN-LONG",
        date_of_death="2024-05-20",
        notification_date="2024-05-30",
        review_status="under_review",
        review_completed_date="",
        category_of_death="",
    ),
}
NOT_FLAGGED = {
    "UNASSIGNED-RECENT": older(
        "UNASSIGNED-RECENT",
        date_of_death="2025-06-19",
        notification_date="2025-06-20",
        reviewing_cdop_code="",
        review_status="notified",
        review_completed_date="",
        category_of_death="",
    ),
    "HOME-CDOP": older("HOME-CDOP", residence_la_code=CAMDEN, reviewing_cdop_code="NCL"),
    "HOSPITAL-CDOP": older("HOSPITAL-CDOP", residence_la_code=CAMDEN, reviewing_cdop_code="LLR"),
    # reviewed by a CDOP that has since merged, for a child who lived in its area
    "MERGED-CDOP": older("MERGED-CDOP", residence_la_code=LIVERPOOL, reviewing_cdop_code="MERS"),
    "OPEN-RECENT": older(
        "OPEN-RECENT",
        date_of_death="2024-08-20",
        notification_date="2024-08-30",
        review_status="under_review",
        review_completed_date="",
        category_of_death="",
    ),
    "COMPLETED-OLD": older("COMPLETED-OLD", date_of_death="2021-01-01", notification_date="2021-01-02"),
}


@pytest.fixture(scope="module")
def crafted(tmp_path_factory: pytest.TempPathFactory) -> Settings:
    from tests.conftest import settings_for

    folder = tmp_path_factory.mktemp("flags")
    settings = settings_for(folder / "instance")
    load_file(write_csv(folder / "crafted.csv", [*FLAGGED.values(), *NOT_FLAGGED.values()]), settings, progress=False)
    return settings


def attention_by_case(settings: Settings, rule: flags.AttentionRule) -> dict[str, str | None]:
    conn = open_readonly(settings.store_path)
    try:
        scope = cdop_scope(conn, ["LLR"], DAY)
        cases = report.case_list(conn, scope, Filters(), limit=100, rule=rule)
        ids = dict(conn.execute("SELECT case_ref, case_id FROM deaths").fetchall())
    finally:
        conn.close()
    return {ids[ref]: text for ref, text in zip(cases["case_ref"], cases["attention"], strict=True)}


def test_each_flag_fires_on_its_crafted_case_and_on_no_other(crafted: Settings) -> None:
    rule = flags.AttentionRule(as_at=DAY)
    shown = attention_by_case(crafted, rule)
    labels = rule.labels
    assert shown["UNASSIGNED-LATE"] == labels["unassigned"] == "No reviewing CDOP after 30 days"
    assert shown["ELSEWHERE"] == labels["elsewhere"]
    assert shown["OPEN-LONG"] == labels["open"] == "Review open over 12 months"
    assert {case: text for case, text in shown.items() if case in NOT_FLAGGED} == dict.fromkeys(NOT_FLAGGED)
    conn = open_readonly(crafted.store_path)
    try:
        counts = whatsnew.attention_counts(conn, cdop_scope(conn, ["LLR"], DAY), rule)
    finally:
        conn.close()
    assert counts == {"unassigned": 1, "elsewhere": 1, "open": 1}


def test_the_thresholds_are_configurable(crafted: Settings) -> None:
    rule = flags.AttentionRule(unassigned_days=5, open_review_months=6, as_at=DAY)
    shown = attention_by_case(crafted, rule)
    assert shown["UNASSIGNED-RECENT"] == "No reviewing CDOP after 5 days"  # 10 days on, now late
    assert shown["OPEN-RECENT"] == "Review open over 6 months"
    assert shown["UNASSIGNED-LATE"] == "No reviewing CDOP after 5 days"
    strict = attention_by_case(crafted, flags.AttentionRule(unassigned_days=60, open_review_months=24, as_at=DAY))
    assert strict["UNASSIGNED-LATE"] is None and strict["OPEN-LONG"] is None
    assert strict["ELSEWHERE"] == "Reviewer neither home nor hospital CDOP"  # no threshold


def test_flags_appear_in_the_case_list_csv_stream(crafted: Settings) -> None:
    conn = open_readonly(crafted.store_path)
    try:
        scope = cdop_scope(conn, ["LLR"], DAY)
        streamed = list(report.iter_cases(conn, scope, Filters(), rule=flags.AttentionRule(as_at=DAY)))
    finally:
        conn.close()
    attention = [a for batch in streamed for a in batch["attention"].to_list() if a]
    assert sorted(attention) == sorted(flags.AttentionRule().labels.values())


def test_months_before_keeps_to_the_calendar() -> None:
    assert flags.months_before(date(2026, 3, 31), 1) == date(2026, 2, 28)
    assert flags.months_before(date(2024, 3, 31), 1) == date(2024, 2, 29)
    assert flags.months_before(date(2025, 6, 30), 12) == date(2024, 6, 30)
    assert flags.months_before(date(2025, 1, 15), 13) == date(2023, 12, 15)


def test_a_store_from_before_schema_4_is_brought_up_to_date_by_the_next_load(
    tmp_path: Path, fresh_settings: Settings
) -> None:
    load_file(write_csv(tmp_path / "a.csv", FIRST), fresh_settings, progress=False)
    with rewrite(fresh_settings.store_path) as conn:  # as schema 3 left it
        conn.execute("DROP TABLE report_facts")
        conn.execute("ALTER TABLE deaths DROP COLUMN first_load_id")
        conn.execute("UPDATE meta SET value = '3' WHERE key = 'schema_version'")
    load_file(write_csv(tmp_path / "b.csv", [*FIRST, older("LATER")]), fresh_settings, progress=False)
    conn = open_readonly(fresh_settings.store_path)
    try:
        assert get_meta(conn, "schema_version") == SCHEMA_VERSION == "6"
        loads = dict(conn.execute("SELECT case_id, first_load_id FROM deaths").fetchall())
        assert loads["OLD-1"] == 1 and loads["LATER"] == 2
        assert whatsnew.new_count(conn, cdop_scope(conn, ["LLR"], DAY), datetime(2000, 1, 1)) == 6
    finally:
        conn.close()

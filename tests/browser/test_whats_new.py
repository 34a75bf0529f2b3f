"""What's new in a real browser: load an extract, visit, load a newer one, visit again.

The app runs on its own store (not the shared one: this test loads into it).
The numbers it sees are checked against the crafted extract and written to
tests/artifacts/whats_new.json, so that they can be quoted.
"""

from __future__ import annotations

import json
import re
import time
from collections.abc import Iterator
from pathlib import Path

import polars as pl
import pytest
from playwright.sync_api import Browser

from ingest.demo import synthetic_extract
from ingest.loader import load_rows
from ingest.synth_calibration import AS_AT
from operational import accounts
from operational import tables as operational
from queries.store import open_readonly
from settings import Settings, load_settings
from tests.browser.conftest import LiveApp, Session, browsing, screenshot, serve
from tests.browser.test_accessibility import scan
from tests.browser.test_flows import choose
from tests.extract_rows import row

ARTIFACTS = Path(__file__).resolve().parents[1] / "artifacts"
NURSE = ("llr.nurse", "a long enough password 1")
LEICESTER_ROYAL, GREAT_ORMOND_STREET, CAMDEN = "RWEAA", "RP401", "E09000007"
UNASSIGNED = {
    "reviewing_cdop_code": "",
    "review_status": "notified",
    "review_completed_date": "",
    "category_of_death": "",
}


def added(case_id: str, **changes: str) -> dict[str, str]:
    """A death in March 2026 (the demo's last month) in Leicester Royal Infirmary."""
    base = {"date_of_death": "2026-03-01", "notification_date": "2026-03-02", "review_completed_date": "2026-03-20"}
    return row(f"SYN-ADDED-{case_id}", **{**base, **changes})


ADDED = {
    "elsewhere": [added(f"AWAY-{i}", residence_la_code=CAMDEN, reviewing_cdop_code="NCL") for i in range(3)],
    "unassigned": [
        added("UNASSIGNED-LATE", notification_date="2026-02-10", date_of_death="2026-02-09", **UNASSIGNED),
        added("UNASSIGNED-RECENT", notification_date="2026-03-20", date_of_death="2026-03-19", **UNASSIGNED),
    ],
    "residents": [added(f"RESIDENT-{i}") for i in range(4)],
}
ADDED_ELSEWHERE = [
    added(f"GOSH-{i}", site_code=GREAT_ORMOND_STREET, residence_la_code=CAMDEN, reviewing_cdop_code="NCL")
    for i in range(2)
]
CHANGED_IN_LLR = 3


def load(settings: Settings, frame: pl.DataFrame, name: str) -> None:
    load_rows(frame, settings, source_name=name, source_sha256=None, replace=False, as_at=AS_AT, progress=False)


def newer_extract(first: pl.DataFrame) -> tuple[pl.DataFrame, list[str]]:
    """The first extract with three Leicester cases changed and 11 deaths added (9 in Leicester)."""
    in_llr = first.filter(pl.col("site_code") == LEICESTER_ROYAL)["case_id"].head(CHANGED_IN_LLR).to_list()
    changed = first.with_columns(
        pl.when(pl.col("case_id").is_in(in_llr))
        .then(pl.lit("not_known"))
        .otherwise(pl.col("expected_death"))
        .alias("expected_death")
    )
    rows = [r for group in ADDED.values() for r in group] + ADDED_ELSEWHERE
    extra = pl.DataFrame(rows, schema=dict.fromkeys(rows[0], pl.String)).select(first.columns)
    return pl.concat([changed, extra]), in_llr


@pytest.fixture(scope="module")
def two_loads(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[LiveApp, pl.DataFrame]]:
    settings = load_settings({"DATA_DIR": str(tmp_path_factory.mktemp("whats-new-store"))})
    first = synthetic_extract(seed=11, scale=0.05)
    load(settings, first, "first extract")
    engine = operational.connect(settings.operational_url)
    accounts.add_user(engine, NURSE[0], NURSE[1], "cdop", ["LLR"])  # a colleague in the same CDOP
    engine.dispose()
    with serve(settings) as app:
        yield app, first


def case_refs(settings: Settings, case_ids: list[str]) -> list[str]:
    conn = open_readonly(settings.store_path)
    try:
        return [
            r[0]
            for r in conn.execute("SELECT case_ref FROM deaths WHERE list_contains(?, case_id)", [case_ids]).fetchall()
        ]
    finally:
        conn.close()


def indicator(session: Session) -> int:
    """The count in the navigation (0 when it shows none)."""
    badge = session.page.locator("#new-count")
    if badge.count() == 0:
        return 0
    return int(re.match(r"[\d,]+", badge.inner_text()).group(0).replace(",", ""))


def sign_in(session: Session, username: str, password: str | None = None) -> None:
    session.sign_in(username, password)
    session.page.wait_for_selector("#nav-whatsnew")
    session.settle()


def test_after_a_second_load_the_indicator_and_the_page_show_exactly_the_added_deaths(
    browser: Browser, two_loads: tuple[LiveApp, pl.DataFrame]
) -> None:
    app, first = two_loads
    numbers: dict[str, object] = {}
    with (
        browsing(browser, app) as llr,
        browsing(browser, app) as nurse,
        browsing(browser, app) as ncl,
        browsing(browser, app) as admin,
    ):
        # first visits, after the first load: nothing is new yet
        sign_in(llr, "llr")
        sign_in(nurse, *NURSE)
        sign_in(ncl, "ncl")
        sign_in(admin, "admin")
        numbers["indicator_after_first_load"] = {
            "llr": indicator(llr),
            "llr.nurse": indicator(nurse),
            "ncl": indicator(ncl),
        }
        assert numbers["indicator_after_first_load"] == {"llr": 0, "llr.nurse": 0, "ncl": 0}

        newer, changed = newer_extract(first)
        load(app.settings, newer, "newer extract")
        time.sleep(1.5)  # the app looks for a new store file once a second

        # visit again: the indicator on the overview page counts the added deaths in Leicester only
        llr.goto("/", "#overview-trust .main-svg")
        llr.page.wait_for_selector("#new-count")
        expected = sum(len(rows) for rows in ADDED.values())
        numbers["indicator_after_second_load"] = {"llr": indicator(llr)}
        assert numbers["indicator_after_second_load"]["llr"] == expected == 9

        # a filter change does not ask the server for the indicator again (it follows the footprint only)
        posted: list[str] = []
        llr.page.on(
            "request", lambda r: posted.append(r.post_data or "") if "_dash-update-component" in r.url else None
        )
        choose(llr, "filter-age", "0-27 days")
        assert posted and not any("nav-whatsnew.children" in body for body in posted)
        assert indicator(llr) == expected

        llr.page.click("#nav-whatsnew")
        llr.page.wait_for_selector(".whatsnew-group table")
        llr.settle()
        assert "Synthetic data" in llr.page.inner_text(".synthetic-banner")
        headings = llr.page.locator(".whatsnew-group h2").all_inner_texts()
        groups = {title.rsplit(": ", 1)[0]: int(title.rsplit(": ", 1)[1]) for title in headings}
        numbers["page_groups"] = groups
        assert groups == {
            "Non-residents reviewed by another CDOP": 3,
            "No reviewing CDOP assigned yet": 2,
            "Residents of this footprint": 4,
        }
        rows = llr.page.locator(".whatsnew-group tbody tr")
        numbers["page_rows"] = rows.count()
        assert rows.count() == expected
        table_text = llr.page.inner_text("#whatsnew-list")
        assert "Great Ormond" not in table_text  # added, but in another footprint
        assert table_text.count("No reviewing CDOP after 30 days") == 1  # notified 49 days before the as-at date
        assert "Leicester Royal Infirmary" in table_text and "North Central London CDOP" in table_text
        changed_refs = case_refs(app.settings, changed)
        assert len(changed_refs) == CHANGED_IN_LLR
        numbers["changed_cases_listed"] = sum(1 for ref in changed_refs if ref in table_text)
        assert numbers["changed_cases_listed"] == 0
        assert all(ref in table_text for ref in case_refs(app.settings, [r["case_id"] for r in ADDED["residents"]]))
        numbers["summary"] = llr.page.inner_text("#whatsnew-summary")
        assert scan(llr, "what's new, after a second load") == []  # with the indicator showing
        screenshot(llr.page, "whats-new")

        # mark seen: the list and the indicator clear for this user only
        llr.page.click("#whatsnew-mark")
        llr.page.wait_for_selector("#new-count", state="detached")
        llr.settle()
        assert llr.page.locator(".whatsnew-group").count() == 0
        assert "No deaths in hospitals of Leicester" in llr.page.inner_text("#whatsnew-summary")
        nurse.goto("/", "#overview-trust .main-svg")
        nurse.page.wait_for_selector("#new-count")
        ncl.goto("/", "#overview-trust .main-svg")
        ncl.page.wait_for_selector("#new-count")
        numbers["indicator_after_llr_marked_seen"] = {
            "llr": indicator(llr),
            "llr.nurse": indicator(nurse),
            "ncl": indicator(ncl),
        }
        assert numbers["indicator_after_llr_marked_seen"] == {"llr": 0, "llr.nurse": 9, "ncl": len(ADDED_ELSEWHERE)}
        # an administrator's indicator follows the footprint chosen (all England, then one CDOP)
        admin.goto("/", "#overview-trust .main-svg")
        admin.page.wait_for_selector("#new-count")
        england = indicator(admin)
        choose(admin, "footprint", "North Central London CDOP")
        admin.page.wait_for_function("() => document.querySelector('#new-count')?.innerText.startsWith('2')")
        numbers["admin_indicator"] = {"All England": england, "North Central London CDOP": indicator(admin)}
        assert numbers["admin_indicator"] == {
            "All England": expected + len(ADDED_ELSEWHERE),
            "North Central London CDOP": 2,
        }
        for session in (llr, nurse, ncl, admin):
            assert session.console_errors == []
    ARTIFACTS.mkdir(exist_ok=True)
    (ARTIFACTS / "whats_new.json").write_text(json.dumps(numbers, indent=2))
    print(json.dumps(numbers, indent=2))

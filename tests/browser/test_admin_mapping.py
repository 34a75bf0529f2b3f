"""Done when: an administrator merges two CDOPs with a future effective date in
the browser, sees the preview, applies it, and on that date the merged CDOP's
users see both former footprints.

The app runs on its own copy of the store (the change must not reach the
other browser tests). "On that date" is a second `python app.py` on the same
stores with the demo's FIXED_TODAY set to the effective date.
"""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from datetime import date, timedelta
from pathlib import Path

import pytest
from playwright.sync_api import Browser

from footprints import store as mapping_store
from operational import tables as operational
from queries import report
from queries.filters import Filters
from queries.scope import cdop_scope
from queries.store import open_readonly
from settings import Settings, load_settings
from tests.browser.conftest import LiveApp, Session, browsing, serve
from tests.browser.test_accessibility import describe, scan
from tests.browser.test_flows import tiles

EFFECTIVE = date.today() + timedelta(days=30)
FOOTPRINT_DEATHS = "Deaths in hospitals in this footprint"


@pytest.fixture
def own_store(live: LiveApp, tmp_path: Path) -> Settings:
    settings = load_settings({"DATA_DIR": str(tmp_path / "instance")})
    settings.data_dir.mkdir(parents=True)
    shutil.copyfile(live.settings.store_path, settings.store_path)
    return settings


def deaths(settings: Settings, codes: list[str], day: date, managed: bool = False) -> int:
    conn = open_readonly(settings.store_path)
    try:
        mapping = mapping_store.load(operational.connect(settings.operational_url)) if managed else None
        return int(report.headline(conn, cdop_scope(conn, codes, day, mapping), Filters())["deaths"][0])
    finally:
        conn.close()


def fill(session: Session, selector: str, value: str) -> None:
    session.page.fill(selector, value)
    session.page.press(selector, "Tab")  # the inputs send their value when left
    session.settle()


def preview_rows(session: Session) -> dict[str, list[str]]:
    table = session.page.locator("#map-preview table").first
    rows = {}
    for row in table.locator("tbody tr").all():
        cells = row.locator("th, td").all_inner_texts()
        rows[cells[0]] = cells[1:]
    return rows


def number(text: str) -> int:
    return int(text.replace(",", ""))


@pytest.fixture
def admin_session(browser: Browser, own_store: Settings) -> Iterator[tuple[Session, LiveApp]]:
    with serve(own_store) as app, browsing(browser, app) as session:
        yield session, app


def test_an_admin_merges_two_cdops_and_on_the_day_their_users_see_both_footprints(
    browser: Browser, own_store: Settings, admin_session: tuple[Session, LiveApp]
) -> None:
    session, app = admin_session
    llr, nham = deaths(own_store, ["LLR"], EFFECTIVE), deaths(own_store, ["NHAM"], EFFECTIVE)
    both = deaths(own_store, ["LLR", "NHAM"], EFFECTIVE)  # a user holding both CDOPs today sees this

    session.sign_in("admin")
    session.goto("/admin/mapping", "#map-in-force table")
    assert scan(session, "footprint mapping") == [], describe(scan(session, "footprint mapping"))
    session.page.click("#map-kind")
    session.page.get_by_role("option", name="Merge two or more CDOPs into a new one").click()
    session.settle()
    fill(session, "#map-cdops", "LLR, NHAM")
    fill(session, "#map-code", "EMCD")
    fill(session, "#map-name", "East Midlands CDOP")
    fill(session, "#map-date", EFFECTIVE.isoformat())
    session.page.click("#map-preview-button")
    session.page.wait_for_selector("#map-preview table", timeout=30_000)
    session.settle()
    rows = preview_rows(session)
    # columns: sees before, trusts before, deaths before, sees after, trusts after, deaths after
    assert number(rows["LLR"][2]) == llr and number(rows["NHAM"][2]) == nham
    assert rows["EMCD"][2] == "—" and number(rows["EMCD"][5]) == both
    assert number(rows["LLR"][5]) == number(rows["NHAM"][5]) == both
    assert "llr" in session.page.inner_text("#map-preview") and "nham" in session.page.inner_text("#map-preview")
    assert scan(session, "mapping preview") == []

    fill(session, "#map-reason", "The two partnerships agreed to merge their panels")
    session.page.click("#map-apply")
    session.page.wait_for_selector("#map-result .notice.success", timeout=30_000)
    assert "Applied as revision 2" in session.page.inner_text("#map-result")
    assert session.console_errors == []

    # before the day nothing has changed for LLR's user
    with browsing(browser, app) as llr_user:
        llr_user.sign_in("llr")
        assert tiles(llr_user)[FOOTPRINT_DEATHS] == llr

    # on the day (the same stores, no restart of anything but the clock), both footprints
    assert deaths(own_store, ["EMCD"], EFFECTIVE, managed=True) == both
    with serve(own_store, FIXED_TODAY=EFFECTIVE.isoformat()) as later:
        for username in ("llr", "nham", "emcd"):
            with browsing(browser, later) as user:
                user.sign_in(username)
                assert tiles(user)[FOOTPRINT_DEATHS] == both, username
                assert "Deaths in hospitals of East Midlands CDOP" in user.page.inner_text("#overview-period")
    print(f"\nmerge LLR + NHAM -> EMCD on {EFFECTIVE}: deaths LLR {llr}, NHAM {nham}, EMCD after {both}")


@pytest.mark.parametrize(
    ("path", "ready", "text"),
    [
        ("/admin/users", "#users-table table", "Latest sign-in"),
        ("/admin/loads", "#loads-table table", "Rejected"),
        ("/admin/reference", "#reference-summary p", "English trusts"),
        ("/admin/reference/ods", "form", "etr.csv"),
    ],
)
def test_the_other_admin_pages_render_without_serious_violations(
    session: Session, path: str, ready: str, text: str
) -> None:
    session.sign_in("admin")
    session.goto(path, ready)
    assert text in session.page.inner_text("main")
    assert scan(session, path) == [], describe(scan(session, path))
    assert session.console_errors == []

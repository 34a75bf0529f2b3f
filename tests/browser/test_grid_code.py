"""AG Grid's code (1.3 MB) reaches the browser only where a grid is shown: the case list."""

from __future__ import annotations

import re
from types import ModuleType
from urllib.parse import urlparse

from playwright.sync_api import Request, Route

from dashboard.ui import ids
from dashboard.views import VIEWS, cases, key
from queries import report
from queries.store import open_readonly
from tests.browser.conftest import LiveApp, Session
from tests.browser.test_flows import choose, query_layer, scope_of

GRID_CODE = "/_dash-component-suites/dash_ag_grid/"
BUNDLE = re.compile(r"/_dash-component-suites/dash_ag_grid/dash_ag_grid\.v[\w-]+m\d+\.min\.js$")
OTHER_PAGES = [view for view in VIEWS if view is not cases]


def watch(session: Session) -> list[str]:
    """The address of every request the page makes from now on."""
    seen: list[str] = []
    session.page.on("request", lambda request: seen.append(request.url))
    return seen


def grid_code(seen: list[str]) -> list[str]:
    return [urlparse(url).path for url in seen if GRID_CODE in url]


def open_by_link(session: Session, view: ModuleType, ready: str | None = None) -> None:
    session.page.click(f"#{ids.nav_link(key(view))}")
    session.page.wait_for_function("path => window.location.pathname === path", arg=view.PATH)
    if ready:
        session.page.wait_for_selector(ready, timeout=30_000)
    session.settle()


def test_no_other_page_asks_for_ag_grids_code_and_the_case_list_does_once(session: Session) -> None:
    seen = watch(session)
    session.sign_in("admin")  # an administrator: every page, the admin pages too
    for view in OTHER_PAGES:  # opened directly ...
        session.goto(view.PATH)
    session.goto("/", "#overview-trust .main-svg")
    for view in OTHER_PAGES:  # ... and by the navigation, as a person moves between pages
        open_by_link(session, view)
    assert grid_code(seen) == []

    open_by_link(session, cases, ".ag-row")
    assert session.page.locator(".ag-row").count() > 0
    asked = grid_code(seen)
    assert len([path for path in asked if BUNDLE.search(path)]) == 1, asked
    assert asked.count(f"{GRID_CODE}async-community.js") == 1  # found beside the bundle, as before

    # away and back: the code has run in this tab, and is not asked for again
    open_by_link(session, OTHER_PAGES[0], "#overview-trust .main-svg")
    open_by_link(session, cases, ".ag-row")
    assert grid_code(seen) == asked
    assert session.console_errors == []


def test_the_case_list_opened_directly_keeps_its_filters_and_shows_its_rows(session: Session, live: LiveApp) -> None:
    session.sign_in("llr")
    seen = watch(session)
    scope = scope_of(live, "LLR")

    def assert_counts_match_the_query_layer() -> None:
        filters, _ = query_layer(live, scope, session.page.url)
        conn = open_readonly(live.settings.store_path)
        try:
            total = report.case_count(conn, scope, filters)
        finally:
            conn.close()
        assert session.page.inner_text(f"#{ids.CASES_COUNT}").startswith(f"{total:,} deaths")
        paging = session.page.locator(".ag-paging-panel")
        paging.filter(has_text=f"of {total}").wait_for(timeout=30_000)  # the grid's own count, from the server

    session.goto("/cases?fy=2024", ".ag-row")
    assert "fy=2024" in session.page.url
    assert_counts_match_the_query_layer()
    assert any(BUNDLE.search(path) for path in grid_code(seen))
    choose(session, "filter-years", "2023/24")  # a filter chosen on the page: a fresh grid for it
    assert "fy=2023" in session.page.url
    session.page.wait_for_selector(".ag-row", timeout=30_000)
    assert_counts_match_the_query_layer()
    assert session.console_errors == []


def test_if_the_code_cannot_be_fetched_the_page_says_so_and_the_next_visit_tries_again(session: Session) -> None:
    session.sign_in("llr")

    def refuse(route: Route, request: Request) -> None:
        route.abort()

    session.page.route(BUNDLE, refuse)
    open_by_link(session, cases)
    session.page.wait_for_selector(f"#{ids.CASES_GRID_BOX} .notice.error", timeout=30_000)
    assert cases.GRID_UNAVAILABLE in session.page.inner_text(f"#{ids.CASES_GRID_BOX}")
    assert "Download the case list (CSV)" in session.page.inner_text(f"#{ids.CASES_COUNT}")  # the rest works
    assert all("Failed to load resource" in error for error in session.console_errors), session.console_errors
    session.console_errors.clear()

    session.page.unroute(BUNDLE, refuse)
    open_by_link(session, OTHER_PAGES[0], "#overview-trust .main-svg")
    open_by_link(session, cases, ".ag-row")
    assert session.console_errors == []

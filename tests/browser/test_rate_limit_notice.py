"""When the server pauses a user's callbacks (429), the page says so politely (assets/rate-limit.js)."""

from __future__ import annotations

import json

from playwright.sync_api import Route

from dashboard.auth.rate_limits import BUSY_MESSAGE
from tests.browser.conftest import Session


def test_a_refused_callback_shows_a_notice_that_goes_away_after_retry_after(session: Session) -> None:
    session.sign_in("llr")
    assert session.page.locator("#rate-limit-notice").count() == 0  # nothing until a refusal

    def refuse(route: Route) -> None:  # what dashboard.auth.rate_limits answers, without spending a real budget
        route.fulfill(
            status=429,
            headers={"Retry-After": "2", "Cache-Control": "no-store"},
            content_type="application/json",
            body=json.dumps({"error": BUSY_MESSAGE, "retry_after": 2}),
        )

    session.page.route("**/_dash-update-component*", refuse)
    session.page.click("#nav-trends")
    notice = session.page.locator("#rate-limit-notice")
    notice.wait_for(state="visible", timeout=10_000)
    assert notice.get_attribute("role") == "alert"
    assert notice.inner_text() == (
        f"{BUSY_MESSAGE} Part of this page could not be updated: wait 2 seconds, then change a filter again "
        "or reload the page."
    )
    session.page.unroute("**/_dash-update-component*")
    notice.wait_for(state="hidden", timeout=10_000)  # by itself, once Retry-After has passed
    session.refused.clear()  # these 429s were made up by this test
    session.page.reload()
    session.page.wait_for_selector("#trend-chart .main-svg", timeout=30_000)  # back to normal
    session.settle()
    assert session.page.locator("#rate-limit-notice").count() == 0

"""My settings in a real browser: a user saves an address for the e-mail digest, the link
arrives at a real SMTP server, and following it (and pressing Confirm) confirms the address."""

from __future__ import annotations

import re
import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Browser

from settings import load_settings
from tests.browser.conftest import LiveApp, browsing, serve
from tests.browser.test_accessibility import describe, scan
from tests.digest.world import text_of
from tests.mail_server import MailServer

ADDRESS = "llr.manager@example.nhs.uk"


@pytest.fixture
def mailing_app(tmp_path: Path, live: LiveApp, mail_server: MailServer) -> Iterator[LiveApp]:
    """The app on a copy of the browser suite's store, sending mail through the loopback server."""
    settings = load_settings({"DATA_DIR": str(tmp_path / "instance")})
    settings.data_dir.mkdir(parents=True)
    shutil.copyfile(live.settings.store_path, settings.store_path)
    with serve(settings, **mail_server.environ()) as app:
        yield app


def test_a_user_opts_in_and_confirms_the_address_by_its_link(
    browser: Browser, mailing_app: LiveApp, mail_server: MailServer
) -> None:
    with browsing(browser, mailing_app) as session:
        session.sign_in("llr")
        session.goto("/settings", "#settings-email")
        assert session.page.inner_text("#settings-status") == "You get no e-mail digest."
        session.page.fill("#settings-email", ADDRESS)
        session.page.click("#settings-frequency")
        session.page.get_by_role("option", name="Weekly, when there is something new", exact=True).click()
        session.page.keyboard.press("Escape")
        session.page.click("#settings-save")
        session.page.wait_for_selector("#settings-result .notice")
        assert f"A link to confirm the address was sent to {ADDRESS}" in session.page.inner_text("#settings-result")
        assert session.page.inner_text("#settings-status").startswith(f"Waiting for you to confirm {ADDRESS}")
        violations = scan(session, "my settings, saved")
        assert violations == [], describe(violations)

        (message,) = mail_server.mailbox.to(ADDRESS)
        # the link is on PUBLIC_URL (the address users know the app by); here the app listens on loopback
        path = re.search(r"https://cdop\.example\.nhs\.uk(/settings/verify\?token=\S+)", text_of(message)).group(1)
        session.page.goto(f"{session.base}{path}")
        session.page.click("text=Confirm this address")
        session.page.wait_for_selector("#digest-confirmed")
        assert scan(session, "digest address confirmed") == []
        session.goto("/settings", "#settings-email")
        assert session.page.inner_text("#settings-status") == (
            f"The digest goes weekly, when there is something new to {ADDRESS} (confirmed)."
        )
        assert session.console_errors == []

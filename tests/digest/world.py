"""A deaths store with two loads, an app over it, users who opted in to the digest after the
first load, and a real SMTP server on loopback: what the digest's tests share."""

from __future__ import annotations

import os
import re
import subprocess
import sys
import time
from email.message import EmailMessage
from pathlib import Path

from digest import run
from digest.mailer import Mailer
from operational import accounts, digests
from queries.deaths_store import DeathsStore
from settings import Settings, load_settings
from tests.conftest import signed_in
from tests.dash_client import DashClient
from tests.dashboard.test_whats_new_dashboard import FIRST, World, load, second_extract
from tests.mail_server import MailServer

PROJECT = Path(__file__).resolve().parents[2]
NURSE = ("llr.nurse", "a long enough password 1")
ADDRESSES = {
    "llr": "llr.manager@example.nhs.uk",  # daily: 4 new deaths in Leicester's hospitals
    "ncl": "ncl.manager@example.nhs.uk",  # weekly: 1 new death at Great Ormond Street
    "blu": "blu.manager@example.nhs.uk",  # daily: nothing new in Bedfordshire's hospitals
    "leeds": "leeds.manager@example.nhs.uk",  # frequency off
}
UNVERIFIED = "llr.nurse@example.nhs.uk"  # opted in, never followed the link


class DigestWorld:
    def __init__(self, folder: Path, mail: MailServer, **environ: str) -> None:
        from dashboard.app import create_app

        self.mail = mail
        self.environ = {"DATA_DIR": str(folder), **mail.environ(), **environ}
        self.settings: Settings = load_settings(self.environ)
        load(self.settings, FIRST, "first")
        self.app = create_app(self.settings)
        self.app.server.config["TESTING"] = True
        self.engine = self.app.server.extensions["cdop"].engine
        accounts.add_user(self.engine, NURSE[0], NURSE[1], "cdop", ["LLR"])
        self.first_load = self.newest_load()
        frequencies = {"llr": "daily", "ncl": "weekly", "blu": "daily", "leeds": "off"}
        for name, address in ADDRESSES.items():
            self.opt_in(name, address, frequencies[name])
        digests.subscribe(self.engine, self.user_id(NURSE[0]), UNVERIFIED, "daily")
        load(self.settings, second_extract(), "second")
        time.sleep(1.1)  # the app looks for a new store file at most once a second

    def user_id(self, name: str) -> int:
        user = accounts.get_user_by_name(self.engine, name)
        assert user is not None
        return user.id

    def opt_in(self, name: str, address: str, frequency: str, when_empty: bool = False) -> None:
        """Subscribe and verify, as following the link after the first load does."""
        user_id = self.user_id(name)
        digests.subscribe(self.engine, user_id, address, frequency, when_empty)
        assert digests.verify(self.engine, user_id, address, self.newest_load())

    newest_load = World.newest_load  # reads self.settings' store only

    def cli(self, *args: str, **environ: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [sys.executable, "app.py", *args],
            cwd=PROJECT,
            env={**os.environ, **self.environ, **environ},
            capture_output=True,
            text=True,
            timeout=300,
            check=False,
        )

    def send(self, only_user: str | None = None, dry_run: bool = False) -> run.Report:
        """``digest send`` in this process (the command line's own steps), for tests that look inside."""
        store = DeathsStore(self.settings.store_path)
        conn = store.cursor()
        try:
            ctx = run.context(self.settings, self.engine, conn, store.facts().as_at)
            with Mailer(self.settings) as mailer:
                return run.send_due(ctx, None if dry_run else (lambda: mailer), only_user)
        finally:
            conn.close()
            store.close()

    def client(self, name: str, password: str | None = None) -> DashClient:
        return DashClient(signed_in(self.app, name, password))


def text_of(message: EmailMessage) -> str:
    body = message.get_body(("plain",))
    assert body is not None
    return body.get_content().replace("\r\n", "\n")


def html_of(message: EmailMessage) -> str:
    body = message.get_body(("html",))
    assert body is not None
    return body.get_content()


def counted(text: str) -> dict[str, int]:
    """'  label: n' lines of a digest's text, as {label: n}."""
    return {label: int(n.replace(",", "")) for label, n in re.findall(r"^  (.+): ([\d,]+)$", text, re.MULTILINE)}

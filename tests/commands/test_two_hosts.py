"""Two app hosts behind a load balancer: the production server of the README twice (different ports,
each with its own DATA_DIR and its own copy of one deaths store), one SECRET_KEY, one PostgreSQL.
What one host does (its admin pages included), the other sees at once: sessions, throttling, the
mapping, disabled users and the audit log are in the shared operational store; and the loader's
deaths store reaches both whole."""

from __future__ import annotations

import csv
import http.cookiejar
import io
import json
import os
import re
import secrets
import shutil
import subprocess
import sys
import time
import urllib.error
import urllib.parse
import urllib.request
from contextlib import ExitStack
from datetime import date
from pathlib import Path
from typing import Any

from sqlalchemy import select

from operational import tables as operational
from scripts.throwaway_postgres import ThrowawayPostgres
from settings import Settings
from tests.commands.test_serve import serving
from tests.dash_client import DashClient

PROJECT = Path(__file__).resolve().parents[2]
PASSWORD = "a long enough password"


class _NoRedirects(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args, **kwargs):  # type: ignore[no-untyped-def]
        return None  # a 302 is an answer to look at, not to follow


class Browser:
    """One person's browser: its cookies go to whichever host the load balancer picks."""

    def __init__(self) -> None:
        self.jar = http.cookiejar.CookieJar()
        self.opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(self.jar), _NoRedirects)

    def request(self, url: str, form: dict[str, str] | None = None, body: Any = None) -> tuple[int, str]:
        data, headers = (urllib.parse.urlencode(form).encode(), {}) if form is not None else (None, {})
        if body is not None:
            data, headers = json.dumps(body).encode(), {"Content-Type": "application/json"}
        try:
            with self.opener.open(urllib.request.Request(url, data=data, headers=headers), timeout=30) as response:
                return response.status, response.read().decode()
        except urllib.error.HTTPError as error:
            return error.code, error.read().decode()

    def token(self, base: str) -> str:
        found = re.search(r'name="csrf_token" value="([^"]+)"', self.request(f"{base}/login")[1])
        assert found, "no CSRF token"
        return found.group(1)

    def sign_in(self, base: str, username: str, password: str) -> int:
        form = {"username": username, "password": password, "csrf_token": self.token(base)}
        return self.request(f"{base}/login", form)[0]


class LiveDash(DashClient):
    """Dash callbacks posted to a running server, as the page does (DashClient's bodies, over HTTP)."""

    def __init__(self, browser: Browser, base: str) -> None:  # no Flask test client here
        self.browser, self.base = browser, base
        status, text = browser.request(f"{base}/_dash-dependencies")
        assert status == 200, status
        self.dependencies = json.loads(text)

    def answer(self, output_part: str, values: dict[str, Any], changed: list[str]) -> dict[str, Any]:
        body = self.body(self.find(output_part), values, changed)
        status, text = self.browser.request(f"{self.base}/_dash-update-component", body=body)
        assert status == 200, (status, text[:300])
        response = json.loads(text)["response"]
        return {f"{component}.{prop}": value for component, props in response.items() for prop, value in props.items()}


def run_app(env: dict[str, str], *args: str, stdin: str = "") -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "app.py", *args], cwd=PROJECT, env={**os.environ, **env}, input=stdin,
        capture_output=True, text=True, timeout=300, check=False,
    )  # fmt: skip


def trusts_of(browser: Browser, base: str) -> set[str]:
    status, text = browser.request(f"{base}/download/by-trust.csv")
    assert status == 200, text[:300]
    return {row["trust_code"] for row in csv.DictReader(io.StringIO(text))}


def test_two_hosts_share_sessions_throttling_mapping_users_and_audit(
    tmp_path: Path, demo_settings: Settings, postgres: ThrowawayPostgres
) -> None:
    url = postgres.url(postgres.create_database())  # empty: the first workers to start migrate it
    shared = {"SECRET_KEY": secrets.token_hex(32), "OPERATIONAL_DB_URL": url, "WEB_WORKERS": "2", "WEB_THREADS": "2"}
    dirs = {name: tmp_path / name / "instance" for name in ("a", "b")}
    for folder in dirs.values():
        folder.mkdir(parents=True)
        shutil.copyfile(demo_settings.store_path, folder / "deaths.duckdb")
    with ExitStack() as stack:
        a = stack.enter_context(serving(dirs["a"], **shared)).base
        b = stack.enter_context(serving(dirs["b"], **shared)).base

        # a session signed in on A is accepted on B; signing out on B ends it on A
        person = Browser()
        assert person.sign_in(a, "llr", "demo-llr") == 302
        assert person.request(f"{b}/_dash-layout")[0] == 200
        assert person.request(f"{b}/logout", {"csrf_token": person.token(b)})[0] == 302
        assert person.request(f"{a}/_dash-layout")[0] == 401

        # a mapping change applied on A (its admin page: previewed, then applied) is what B serves next
        panel = Browser()
        assert panel.sign_in(b, "llr", "demo-llr") == 302
        before = trusts_of(panel, b)
        assert "RWE" in before and "RNQ" not in before  # Leicester's trust, not Kettering's
        admin = Browser()
        assert admin.sign_in(a, "admin", "admin-demo") == 302
        on_a = LiveDash(admin, a)
        move = {"map-kind.value": "move", "map-trust.value": "RNQ", "map-from.value": "NHAM", "map-to.value": "LLR"}
        move["map-date.value"] = date.today().isoformat()
        preview = ["map-preview-button.n_clicks"]
        shown = on_a.answer("map-preview.children", {**move, "map-preview-button.n_clicks": 1}, preview)
        move.update({"map-reason.value": "two hosts", "map-previewed.data": shown["map-previewed.data"]})
        applied = on_a.answer("map-result.children", {**move, "map-apply.n_clicks": 1}, ["map-apply.n_clicks"])
        assert "revision 2" in json.dumps(applied), applied
        after = trusts_of(panel, b)
        assert after == before | {"RNQ"}

        # a user disabled on B (its admin page) is refused on A
        env_b = {"DATA_DIR": str(dirs["b"]), **shared}
        added = run_app(env_b, "users", "add", "jane.smith", "--cdop", "LLR", "--password-stdin", stdin=PASSWORD)
        assert added.returncode == 0, added.stderr
        jane = Browser()
        assert jane.sign_in(a, "jane.smith", PASSWORD) == 302
        assert jane.request(f"{a}/_dash-layout")[0] == 200
        assert admin.request(f"{b}/_dash-layout")[0] == 200  # the admin's session from A, on B
        disabled = LiveDash(admin, b).answer(
            "users-result.children",
            {"users-go.n_clicks": 1, "users-action.value": "disable", "users-name.value": "jane.smith",
             "users-cdop.value": "", "users-role.value": "cdop"},
            ["users-go.n_clicks"],
        )  # fmt: skip
        assert "Done" in json.dumps(disabled), disabled
        assert jane.request(f"{a}/_dash-layout")[0] == 401

        # five failed sign-ins spread over A and B throttle the next attempt on both
        guesser = Browser()
        for base in (a, b, a, b, a):
            assert guesser.sign_in(base, "nobody.here", "wrong guess") == 401
        assert guesser.sign_in(b, "ncl", "demo-ncl") == 429
        assert guesser.sign_in(a, "ncl", "demo-ncl") == 429

    # the audit log holds the events of both: the sign-in on A, the sign-out on B, the failures on each
    engine = operational.connect(url)
    with engine.connect() as db:
        rows = db.execute(select(operational.audit_log.c.event, operational.audit_log.c.username)).all()
    events = [(event, user) for event, user in rows]
    assert ("logout", "llr") in events and events.count(("login", "llr")) == 2
    assert events.count(("login_failed", "nobody.here")) == 5 and ("login", "jane.smith") in events
    assert events.count(("admin_action", "admin")) == 2  # the move on A, the disable on B
    assert [event for event, _ in rows].count("login_throttled") == 2
    engine.dispose()


def test_the_loaders_store_is_published_to_every_host_and_both_serve_it(
    tmp_path: Path, demo_settings: Settings, postgres: ThrowawayPostgres
) -> None:
    hosts = 2
    url = postgres.url(postgres.create_database())
    shared = {"SECRET_KEY": secrets.token_hex(32), "OPERATIONAL_DB_URL": url, "WEB_WORKERS": "1", "WEB_THREADS": "2"}
    loader = tmp_path / "loader" / "instance"
    dirs = [tmp_path / f"host{i}" / "instance" for i in range(hosts)]
    for folder in dirs:
        folder.mkdir(parents=True)
        shutil.copyfile(demo_settings.store_path, folder / "deaths.duckdb")
    built = run_app({"DATA_DIR": str(loader), **shared}, "demo", "--scale", "0.02", "--seed", "11")
    assert built.returncode == 0, built.stderr
    with ExitStack() as stack:
        bases = [stack.enter_context(serving(folder, **shared)).base for folder in dirs]
        admin = Browser()
        assert admin.sign_in(bases[0], "admin", "admin-demo") == 302

        def headline(base: str) -> str:
            status, text = admin.request(f"{base}/download/headline.csv")
            assert status == 200, text[:200]
            return text

        old = {headline(base) for base in bases}
        assert len(old) == 1
        published = subprocess.run(
            ["bash", "scripts/publish_deaths_store.sh", str(loader), *map(str, dirs)],
            cwd=PROJECT, capture_output=True, text=True, timeout=120, check=False,
        )  # fmt: skip
        assert published.returncode == 0, published.stderr
        assert published.stdout.count("published to") == hosts
        deadline = time.monotonic() + 10
        while (new := {headline(base) for base in bases}) & old and time.monotonic() < deadline:
            time.sleep(0.3)  # each worker looks for a new store once a second
        assert len(new) == 1 and not new & old  # both hosts serve the loader's store, the same
    assert {(folder / "deaths.duckdb").read_bytes() == (loader / "deaths.duckdb").read_bytes() for folder in dirs} == {
        True
    }
    refused = subprocess.run(
        ["bash", "scripts/publish_deaths_store.sh", str(tmp_path / "nothing"), str(dirs[0])],
        cwd=PROJECT, capture_output=True, text=True, timeout=60, check=False,
    )  # fmt: skip
    assert refused.returncode == 2 and refused.stderr.startswith("error: no deaths store at")

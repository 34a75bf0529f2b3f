"""Two app hosts behind a load balancer: the production server of the README twice (different ports,
each with its own DATA_DIR and its own copy of one deaths store), one SECRET_KEY, one PostgreSQL.
What one host does, the other sees at once: sessions, throttling, the mapping, disabled users and the
audit log are in the shared operational store; and the loader's deaths store reaches both whole."""

from __future__ import annotations

import csv
import http.cookiejar
import io
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

from sqlalchemy import select

from operational import tables as operational
from scripts.throwaway_postgres import ThrowawayPostgres
from settings import Settings
from tests.commands.test_serve import serving

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

    def request(self, url: str, form: dict[str, str] | None = None) -> tuple[int, str]:
        data = urllib.parse.urlencode(form).encode() if form is not None else None
        try:
            with self.opener.open(urllib.request.Request(url, data=data), timeout=30) as response:
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

        # a mapping change applied on A (its command line, on its DATA_DIR) is what B serves next
        panel = Browser()
        assert panel.sign_in(b, "llr", "demo-llr") == 302
        before = trusts_of(panel, b)
        assert "RWE" in before and "RNQ" not in before  # Leicester's trust, not Kettering's
        env_a = {"DATA_DIR": str(dirs["a"]), **shared}
        moved = run_app(
            env_a, "mapping", "move", "RNQ", "--from", "NHAM", "--to", "LLR", "--date", date.today().isoformat(),
            "--apply", "--reason", "two-host test",
        )  # fmt: skip
        assert moved.returncode == 0, moved.stderr
        after = trusts_of(panel, b)
        assert after == before | {"RNQ"}

        # a user disabled on B is refused on A
        env_b = {"DATA_DIR": str(dirs["b"]), **shared}
        added = run_app(env_b, "users", "add", "jane.smith", "--cdop", "LLR", "--password-stdin", stdin=PASSWORD)
        assert added.returncode == 0, added.stderr
        jane = Browser()
        assert jane.sign_in(a, "jane.smith", PASSWORD) == 302
        assert jane.request(f"{a}/_dash-layout")[0] == 200
        assert run_app(env_b, "users", "disable", "jane.smith").returncode == 0
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

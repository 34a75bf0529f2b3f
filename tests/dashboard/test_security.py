"""Authentication, sessions, CSRF, headers, throttling, audit and deployment guards.

Sessions, throttling, passwords and the audit log are tested on an operational store of each kind
(``ops_app``: SQLite and PostgreSQL); the rest on the session's demo app."""

from __future__ import annotations

import os
import subprocess
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path
from types import SimpleNamespace

import pytest
from sqlalchemy import update

from dashboard.app import create_app
from ingest.loader import load_file
from operational import accounts, audit, throttle
from operational import tables as operational
from settings import Settings, load_settings
from tests.conftest import csrf_token, post_login, signed_in
from tests.dash_client import OVERVIEW
from tests.extract_rows import many, write_csv

PROJECT = Path(__file__).resolve().parents[2]


def engine_of(dash_app):
    return dash_app.server.extensions["cdop"].engine


def from_address(dash_app, address: str):
    client = dash_app.server.test_client()
    client.environ_base["REMOTE_ADDR"] = address
    return client


def age_sessions(dash_app, **changes: timedelta) -> None:
    """Move every live session back in time, as if the clock had run on."""
    now = datetime.now(UTC).replace(tzinfo=None)
    values = {column: now - delta for column, delta in changes.items()}
    with engine_of(dash_app).begin() as db:
        db.execute(update(operational.sessions).where(operational.sessions.c.ended_at.is_(None)).values(**values))


# ------------------------------------------------------------------ sessions


def test_an_idle_session_expires(ops_app) -> None:
    client = signed_in(ops_app, "dder")
    assert client.get("/_dash-layout").status_code == 200
    age_sessions(ops_app, last_seen_at=timedelta(minutes=31))
    assert client.get("/_dash-layout").status_code == 401
    assert client.get("/").status_code == 302  # back to the login page


def test_a_session_ends_at_its_absolute_lifetime_even_when_busy(ops_app) -> None:
    client = signed_in(ops_app, "dder")
    age_sessions(ops_app, created_at=timedelta(hours=13), last_seen_at=timedelta(seconds=5))
    assert client.get("/_dash-layout").status_code == 401


def test_signing_in_issues_a_new_session_and_signing_out_kills_the_old_cookie(ops_app) -> None:
    first = signed_in(ops_app, "glos")
    second = signed_in(ops_app, "glos")
    cookie_of = lambda c: c.get_cookie("cdop_session").value  # noqa: E731
    assert cookie_of(first) != cookie_of(second)
    stolen = cookie_of(first)
    assert first.post("/logout", data={"csrf_token": csrf_token(first)}).status_code == 302
    replay = ops_app.server.test_client()
    replay.set_cookie("cdop_session", stolen)
    assert replay.get("/_dash-layout").status_code == 401  # the copied cookie is worthless after sign-out
    assert second.get("/_dash-layout").status_code == 200  # other sessions carry on


@pytest.mark.parametrize("second_user", ["glos", "dder"])
def test_signing_in_again_in_the_same_browser_ends_the_session_it_replaces(ops_app, second_user: str) -> None:
    """Issue 13, item 6: the first session's cookie went on reading the first user's data."""
    browser = signed_in(ops_app, "glos")
    first_cookie = browser.get_cookie("cdop_session").value
    response = post_login(browser, second_user, f"demo-{second_user}")
    assert response.status_code == 302
    assert browser.get("/_dash-layout").status_code == 200  # the new session works
    replay = ops_app.server.test_client()
    replay.set_cookie("cdop_session", first_cookie)
    assert replay.get("/_dash-layout").status_code == 401
    assert replay.get("/download/by-site.csv").status_code == 401
    with engine_of(ops_app).connect() as db:
        reasons = db.execute(
            operational.sessions.select().where(operational.sessions.c.ended_reason == "replaced")
        ).fetchall()
    assert reasons


def test_a_tampered_cookie_is_anonymous(dash_app) -> None:
    client = signed_in(dash_app, "glos")
    value = client.get_cookie("cdop_session").value
    forged = dash_app.server.test_client()
    forged.set_cookie("cdop_session", value[:-3] + ("AAA" if not value.endswith("AAA") else "BBB"))
    assert forged.get("/_dash-layout").status_code == 401
    assert forged.get("/download/cases.csv").status_code == 401


def test_the_session_cookie_is_httponly_lax_and_secure_over_https(dash_app) -> None:
    client = dash_app.server.test_client()
    plain = client.get("/login").headers.getlist("Set-Cookie")[0]
    assert "HttpOnly" in plain and "SameSite=Lax" in plain and "Secure" not in plain
    https = dash_app.server.test_client().get("/login", base_url="https://localhost").headers.getlist("Set-Cookie")[0]
    assert "Secure" in https and "HttpOnly" in https


# ------------------------------------------------------------------ CSRF, headers, limits


def test_forms_need_their_csrf_token(dash_app) -> None:
    client = dash_app.server.test_client()
    refused = client.post("/login", data={"username": "glos", "password": "demo-glos"})
    assert refused.status_code == 400 and "expired" in refused.get_data(as_text=True)
    signed = signed_in(dash_app, "glos")
    assert signed.post("/logout").status_code == 400
    assert signed.get("/_dash-layout").status_code == 200  # still signed in: the forged logout did nothing


@pytest.mark.parametrize("path", ["/login", "/_dash-layout", "/download/by-site.csv", "/"])
def test_security_headers_on_every_response(dash_app, path: str) -> None:
    headers = signed_in(dash_app, "glos").get(path).headers
    csp = headers["Content-Security-Policy"]
    assert "frame-ancestors 'none'" in csp and "default-src 'self'" in csp and "object-src 'none'" in csp
    assert "'unsafe-eval'" not in csp and "script-src 'self' 'sha256-" in csp
    assert headers["X-Content-Type-Options"] == "nosniff"
    assert headers["Referrer-Policy"] == "strict-origin-when-cross-origin"
    assert headers["X-Frame-Options"] == "DENY"


def test_oversized_and_unknown_requests_get_friendly_4xx(dash_app) -> None:
    client = signed_in(dash_app, "glos")
    long = client.get("/?" + "fy=2024&" * 1000)
    assert long.status_code == 414 and "too long" in long.get_data(as_text=True)
    missing = client.get("/assets/no-such-file.css")
    assert missing.status_code == 404 and "Traceback" not in missing.get_data(as_text=True)
    big = client.post("/_dash-update-component", data="{" + " " * 1_100_000 + "}", content_type="application/json")
    assert big.status_code == 413
    assert client.put("/login").status_code == 405


# ------------------------------------------------------------------ throttling


def fail_at(engine, username: str, address: str, times: int, ago: timedelta = timedelta(0)) -> None:
    """Failed sign-ins written straight into the audit log, ``ago`` in the past."""
    at = datetime.now(UTC).replace(tzinfo=None) - ago
    with engine.begin() as db:
        for _ in range(times):
            db.execute(
                operational.audit_log.insert().values(
                    at=at, username=username, event="login_failed", detail={}, remote_addr=address
                )
            )


def test_someone_else_failing_for_a_username_does_not_lock_its_user_out_at_their_usual_address(ops_app) -> None:
    """Issue 13, item 5: five wrong passwords from anywhere refused the right one from everywhere for 15 minutes."""
    engine = engine_of(ops_app)
    accounts.add_user(engine, "targeted.user", "a long enough password", "cdop", ["GLOS"])
    home = "192.0.2.10"
    assert post_login(from_address(ops_app, home), "targeted.user", "a long enough password").status_code == 302
    for attempt in range(6):  # an attacker, spread over addresses so that no address limit trips
        response = post_login(from_address(ops_app, f"198.51.100.{attempt}"), "targeted.user", "wrong")
        assert response.status_code in (401, 429)
    assert post_login(from_address(ops_app, home), "targeted.user", "a long enough password").status_code == 302


def test_failures_for_a_username_slow_unfamiliar_addresses_with_a_growing_delay(ops_app) -> None:
    engine = engine_of(ops_app)
    accounts.add_user(engine, "slowed.user", "a long enough password", "cdop", ["GLOS"])
    fail_at(engine, "slowed.user", "198.51.100.50", 4)
    fail_at(engine, "slowed.user", "198.51.100.51", 4)  # eight in all: the next waits 2**3 = 8 s after the last
    refused = post_login(from_address(ops_app, "198.51.100.52"), "slowed.user", "a long enough password")
    assert refused.status_code == 429 and "Too many failed sign-ins" in refused.get_data(as_text=True)
    assert 1 <= int(refused.headers["Retry-After"]) <= 8
    throttled = [e for e in audit.recent(engine, event="login_throttled") if e["username"] == "slowed.user"]
    assert throttled and throttled[0]["detail"]["reason"] == "username"
    assert [throttle.delay_after(n).total_seconds() for n in (4, 5, 6, 7, 30)] == [0, 1, 2, 4, 900]


def test_the_delay_passes_and_the_user_signs_in_from_anywhere(ops_app) -> None:
    engine = engine_of(ops_app)
    accounts.add_user(engine, "waited.user", "a long enough password", "cdop", ["GLOS"])
    fail_at(engine, "waited.user", "198.51.100.60", 6, ago=timedelta(seconds=5))  # six: a 2 s delay, long past
    response = post_login(from_address(ops_app, "198.51.100.61"), "waited.user", "a long enough password")
    assert response.status_code == 302


def test_five_failures_from_an_address_refuse_it_for_every_user(ops_app) -> None:
    address = "203.0.113.7"
    for name in ("aa.one", "aa.two", "aa.three", "aa.four", "aa.five"):
        post_login(from_address(ops_app, address), name, "guess")
    refused = post_login(from_address(ops_app, address), "glos", "demo-glos")
    assert refused.status_code == 429 and 1 <= int(refused.headers["Retry-After"]) <= 15 * 60
    assert post_login(from_address(ops_app, "203.0.113.8"), "glos", "demo-glos").status_code == 302
    assert throttle.blocked(engine_of(ops_app), "", address)


def test_an_address_s_failures_age_out_of_the_window(ops_app) -> None:
    engine = engine_of(ops_app)
    fail_at(engine, "someone", "203.0.113.70", 5, ago=timedelta(minutes=16))
    assert not throttle.blocked(engine, "", "203.0.113.70")
    fail_at(engine, "someone", "203.0.113.70", 5, ago=timedelta(minutes=14))
    assert throttle.blocked(engine, "", "203.0.113.70")


# ------------------------------------------------------------------ passwords


def test_real_passwords_follow_the_policy_and_are_argon2id(ops_app) -> None:
    engine = engine_of(ops_app)
    for weak in ("short", "policy.tester-is-in-here", "aaaaaaaaaaaaaaaa"):
        with pytest.raises(accounts.AccountError):
            accounts.add_user(engine, "policy.tester", weak, "cdop", ["GLOS"])
    accounts.add_user(engine, "policy.tester", "correct horse battery staple", "cdop", ["GLOS"])
    with engine.connect() as db:
        stored = db.execute(operational.users.select().where(operational.users.c.username == "policy.tester")).first()
    assert stored.password_hash.startswith("$argon2id$")
    assert accounts.authenticate(engine, "POLICY.TESTER", "correct horse battery staple") is not None


# ------------------------------------------------------------------ audit


def test_page_views_downloads_and_refusals_are_audited_and_only_admins_see_the_log(ops_app) -> None:
    from tests.dash_client import DashClient

    engine = engine_of(ops_app)
    glos = DashClient(signed_in(ops_app, "glos"))
    glos.outputs(OVERVIEW, {"url.search": "?fy=2024"})
    views = [e for e in audit.recent(engine, event="page_view") if e["username"] == "glos"]
    assert views and views[0]["detail"]["query"] == "?fy=2024" and views[0]["detail"]["page"] == "/"
    assert glos.client.get("/download/audit.csv").status_code == 403
    denied = glos.outputs("main.children", {"url.pathname": "/admin/audit", "url.search": ""})
    assert "Access denied" in str(denied["main.children"])
    refusals = [e for e in audit.recent(engine, event="forbidden") if e["username"] == "glos"]
    assert {r["detail"]["page"] for r in refusals} >= {"/admin/audit", "/download/audit.csv"}

    admin = DashClient(signed_in(ops_app, "admin", "admin-demo"))
    log = admin.client.get("/download/audit.csv?event=forbidden")
    assert log.status_code == 200 and "glos" in log.get_data(as_text=True)
    table = admin.outputs("audit-table", {"audit-event.value": "page_view"})
    assert "page_view" in str(table["audit-table.children"])


def test_the_audit_log_is_append_only_in_the_app(dash_app) -> None:
    import operational.audit as module

    assert not [name for name in dir(module) if name.startswith(("delete", "update", "purge", "clear"))]


# ------------------------------------------------------------------ deployment guards


def real_store(folder: Path) -> Settings:
    settings = load_settings({"DATA_DIR": str(folder)})
    load_file(write_csv(folder.parent / f"{folder.name}.csv", many(3)), settings, progress=False)
    return settings


def test_a_real_deployment_refuses_to_start_without_a_secret_key(tmp_path: Path) -> None:
    settings = real_store(tmp_path / "real")
    with pytest.raises(SystemExit, match="SECRET_KEY must be set"):
        create_app(settings)
    app = create_app(load_settings({"DATA_DIR": str(settings.data_dir), "SECRET_KEY": "x" * 64}))
    names = {u.username for u in accounts.list_users(app.server.extensions["cdop"].engine)}
    assert names == set()  # no demo users on real data
    assert "Synthetic" not in app.server.test_client().get("/login").get_data(as_text=True)


def test_demo_users_stop_working_when_real_data_arrive(tmp_path: Path) -> None:
    from ingest.demo import build_demo_store

    settings = load_settings({"DATA_DIR": str(tmp_path / "d"), "SECRET_KEY": "k" * 64})
    build_demo_store(settings, scale=0.02, progress=False)
    app = create_app(settings)
    client = signed_in(app, "llr")
    load_file(write_csv(tmp_path / "real.csv", many(2)), settings, replace=True, progress=False)
    app.server.extensions["cdop"].store._checked = 0  # skip the one-second re-check
    assert client.get("/_dash-layout").status_code == 401
    assert post_login(app.server.test_client(), "llr", "demo-llr").status_code == 401


def test_the_demo_refuses_to_listen_beyond_loopback(tmp_path: Path) -> None:
    env = {**os.environ, "DATA_DIR": str(tmp_path / "demo")}
    built = subprocess.run(
        [sys.executable, "app.py", "demo", "--scale", "0.02"],
        cwd=PROJECT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert built.returncode == 0, built.stderr
    refused = subprocess.run(
        [sys.executable, "app.py", "run", "--host", "0.0.0.0"],
        cwd=PROJECT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert refused.returncode == 2 and "only listens on this machine" in refused.stderr
    assert "Traceback" not in refused.stderr


def test_gunicorn_refuses_to_serve_the_demo_beyond_loopback(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import importlib.util

    from ingest.demo import build_demo_store

    settings = load_settings({"DATA_DIR": str(tmp_path / "demo")})
    build_demo_store(settings, scale=0.02, progress=False)
    monkeypatch.setenv("DATA_DIR", str(settings.data_dir))
    spec = importlib.util.spec_from_file_location("gunicorn_conf", PROJECT / "gunicorn.conf.py")
    conf = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(conf)
    assert conf.control_socket_disable is True
    conf.on_starting(SimpleNamespace(cfg=SimpleNamespace(bind=["127.0.0.1:8050"])))
    with pytest.raises(SystemExit, match="only listens on this machine"):
        conf.on_starting(SimpleNamespace(cfg=SimpleNamespace(bind=["0.0.0.0:8050"])))


# ------------------------------------------------------------------ smaller leaks (issue 13, item 8)


def test_healthz_says_only_ok_or_unavailable(dash_app, tmp_path: Path) -> None:
    answer = dash_app.server.test_client().get("/healthz")
    assert answer.status_code == 200 and answer.get_data(as_text=True) == "ok"
    settings = load_settings({"DATA_DIR": str(tmp_path / "nothing-here"), "SECRET_KEY": "s" * 64})
    empty = create_app(settings)
    down = empty.server.test_client().get("/healthz")
    assert down.status_code == 503 and down.get_data(as_text=True) == "unavailable"
    assert str(tmp_path) not in down.get_data(as_text=True)


@pytest.mark.parametrize(
    "path",
    [
        "/_dash-component-suites/dash/no-such-file.js",
        "/_dash-component-suites/dash/dcc/no-such.v1.js",
        "/_dash-component-suites/no_such_package/x.js",
    ],
)
def test_a_missing_component_suite_file_is_a_quiet_404(dash_app, path: str, caplog: pytest.LogCaptureFixture) -> None:
    with caplog.at_level("ERROR"):
        response = dash_app.server.test_client().get(path)
    assert response.status_code == 404
    assert "Traceback" not in response.get_data(as_text=True)
    assert not [r for r in caplog.records if r.levelname == "ERROR" or r.exc_info]


def test_the_about_page_tells_a_cdop_user_only_what_their_footprint_holds(dash_app) -> None:
    from dashboard.context import scope_for
    from operational.accounts import get_user_by_name
    from queries import report
    from queries.filters import Filters
    from tests.dash_client import DashClient

    svc = dash_app.server.extensions["cdop"]
    conn = svc.store.cursor()
    try:
        national = int(conn.execute("SELECT count(*) FROM deaths").fetchone()[0])
    finally:
        conn.close()
    glos = DashClient(signed_in(dash_app, "glos"))
    text = str(glos.outputs("about-facts", {"url.search": ""})["about-facts.children"])
    assert f"{national:,}" not in text and str(national) not in text
    conn = svc.store.cursor()
    try:
        mapping = svc.mappings.current(conn)
        scope, _ = scope_for(get_user_by_name(svc.engine, "glos"), None, conn, svc.today(), mapping)
        own = int(report.headline(conn, scope, Filters())["deaths"][0])
    finally:
        conn.close()
    assert f"holds {own:,} deaths in its hospitals" in text


def test_an_unknown_username_costs_what_a_demo_account_costs(dash_app, monkeypatch: pytest.MonkeyPatch) -> None:
    """The check's cost is the hash's parameters: the dummy for an unknown name must carry the same
    parameters as the accounts that exist (demo accounts have cheap hashes, real ones the full cost)."""
    from argon2 import extract_parameters

    checked: list[str] = []

    class Spy:
        """The hasher, noting which stored hash each check used."""

        def verify(self, stored: str, password: str) -> bool:
            checked.append(stored)
            return accounts.PasswordHasher().verify(stored, password)

        def hash(self, password: str) -> str:
            return accounts.PasswordHasher().hash(password)

    monkeypatch.setattr(accounts, "HASHER", Spy())
    for name in ("glos", "no.such.user"):
        post_login(dash_app.server.test_client(), name, "a wrong password")
    demo_account, unknown = (extract_parameters(h) for h in checked)
    assert unknown == demo_account

    checked.clear()
    engine = engine_of(dash_app)
    accounts.add_user(engine, "real.person", "a long enough password", "cdop", ["GLOS"])
    accounts.authenticate(engine, "real.person", "wrong password!")
    accounts.authenticate(engine, "nobody.at.all", "wrong password!")  # outside demo mode: the full cost
    assert extract_parameters(checked[0]) == extract_parameters(checked[1])


def test_the_built_in_server_does_not_name_werkzeug_or_python(own_settings: Settings) -> None:
    import socket
    import time
    import urllib.request

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    env = {**os.environ, "DATA_DIR": str(own_settings.data_dir)}
    server = subprocess.Popen(
        [sys.executable, "app.py", "run", "--port", str(port)],
        cwd=PROJECT,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/login", timeout=2) as answer:
                    banner = answer.headers.get("Server", "")
                break
            except OSError:
                assert time.monotonic() < deadline, "python app.py did not answer within a minute"
                time.sleep(0.2)
    finally:
        server.terminate()
        server.wait(timeout=20)
    assert banner and "werkzeug" not in banner.lower() and "python" not in banner.lower()

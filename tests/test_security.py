"""Authentication, sessions, CSRF, headers, throttling, audit and deployment guards."""

from __future__ import annotations

import os
import subprocess
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path
from types import SimpleNamespace

import pytest
from sqlalchemy import update

from dashboard import accounts, audit, operational, throttle
from dashboard.app import create_app
from ingest.loader import load_file
from settings import Settings, load_settings
from tests.conftest import csrf_token, post_login, signed_in
from tests.extract_rows import many, write_csv

PROJECT = Path(__file__).resolve().parent.parent


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


def test_an_idle_session_expires(dash_app) -> None:
    client = signed_in(dash_app, "dder")
    assert client.get("/_dash-layout").status_code == 200
    age_sessions(dash_app, last_seen_at=timedelta(minutes=31))
    assert client.get("/_dash-layout").status_code == 401
    assert client.get("/").status_code == 302  # back to the login page


def test_a_session_ends_at_its_absolute_lifetime_even_when_busy(dash_app) -> None:
    client = signed_in(dash_app, "dder")
    age_sessions(dash_app, created_at=timedelta(hours=13), last_seen_at=timedelta(seconds=5))
    assert client.get("/_dash-layout").status_code == 401


def test_signing_in_issues_a_new_session_and_signing_out_kills_the_old_cookie(dash_app) -> None:
    first = signed_in(dash_app, "glos")
    second = signed_in(dash_app, "glos")
    cookie_of = lambda c: c.get_cookie("cdop_session").value  # noqa: E731
    assert cookie_of(first) != cookie_of(second)
    stolen = cookie_of(first)
    assert first.post("/logout", data={"csrf_token": csrf_token(first)}).status_code == 302
    replay = dash_app.server.test_client()
    replay.set_cookie("cdop_session", stolen)
    assert replay.get("/_dash-layout").status_code == 401  # the copied cookie is worthless after sign-out
    assert second.get("/_dash-layout").status_code == 200  # other sessions carry on


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


def test_five_failures_for_a_user_refuse_further_attempts_and_are_audited(dash_app) -> None:
    engine = engine_of(dash_app)
    accounts.add_user(engine, "throttled.user", "a long enough password", "cdop", ["GLOS"])
    for attempt in range(5):  # spread over addresses: the user's own count trips
        response = post_login(from_address(dash_app, f"198.51.100.{attempt}"), "throttled.user", "wrong")
        assert response.status_code == 401
    refused = post_login(from_address(dash_app, "198.51.100.99"), "throttled.user", "a long enough password")
    assert refused.status_code == 429 and "Too many failed sign-ins" in refused.get_data(as_text=True)
    assert any(e["username"] == "throttled.user" for e in audit.recent(engine, event="login_throttled"))


def test_five_failures_from_an_address_refuse_it_for_every_user(dash_app) -> None:
    address = "203.0.113.7"
    for name in ("aa.one", "aa.two", "aa.three", "aa.four", "aa.five"):
        post_login(from_address(dash_app, address), name, "guess")
    assert post_login(from_address(dash_app, address), "glos", "demo-glos").status_code == 429
    assert post_login(from_address(dash_app, "203.0.113.8"), "glos", "demo-glos").status_code == 302
    assert throttle.blocked(engine_of(dash_app), "", address)


# ------------------------------------------------------------------ passwords


def test_real_passwords_follow_the_policy_and_are_argon2id(dash_app) -> None:
    engine = engine_of(dash_app)
    for weak in ("short", "policy.tester-is-in-here", "aaaaaaaaaaaaaaaa"):
        with pytest.raises(accounts.AccountError):
            accounts.add_user(engine, "policy.tester", weak, "cdop", ["GLOS"])
    accounts.add_user(engine, "policy.tester", "correct horse battery staple", "cdop", ["GLOS"])
    with engine.connect() as db:
        stored = db.execute(operational.users.select().where(operational.users.c.username == "policy.tester")).first()
    assert stored.password_hash.startswith("$argon2id$")
    assert accounts.authenticate(engine, "POLICY.TESTER", "correct horse battery staple") is not None


# ------------------------------------------------------------------ audit


def test_page_views_downloads_and_refusals_are_audited_and_only_admins_see_the_log(dash_app) -> None:
    from tests.dash_client import DashClient

    engine = engine_of(dash_app)
    glos = DashClient(signed_in(dash_app, "glos"))
    glos.outputs("overview-headline", {"url.search": "?fy=2024"})
    views = [e for e in audit.recent(engine, event="page_view") if e["username"] == "glos"]
    assert views and views[0]["detail"]["query"] == "?fy=2024" and views[0]["detail"]["page"] == "/"
    assert glos.client.get("/download/audit.csv").status_code == 403
    denied = glos.outputs("main.children", {"url.pathname": "/admin/audit", "url.search": ""})
    assert "Access denied" in str(denied["main.children"])
    refusals = [e for e in audit.recent(engine, event="forbidden") if e["username"] == "glos"]
    assert {r["detail"]["page"] for r in refusals} >= {"/admin/audit", "/download/audit.csv"}

    admin = DashClient(signed_in(dash_app, "admin", "admin-demo"))
    log = admin.client.get("/download/audit.csv?event=forbidden")
    assert log.status_code == 200 and "glos" in log.get_data(as_text=True)
    table = admin.outputs("audit-table", {"audit-event.value": "page_view"})
    assert "page_view" in str(table["audit-table.children"])


def test_the_audit_log_is_append_only_in_the_app(dash_app) -> None:
    import dashboard.audit as module

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

"""Shared fixtures: a small synthetic store built once per test session, and operational stores
of both kinds (SQLite, and PostgreSQL on a throwaway server started once per session)."""

from __future__ import annotations

import re
import shutil
from collections.abc import Iterator
from dataclasses import replace
from datetime import date
from pathlib import Path

import duckdb
import polars as pl
import pytest

from ingest.demo import build_demo_store, synthetic_extract
from queries.store import open_readonly
from scripts.throwaway_postgres import ThrowawayPostgres
from settings import Settings, load_settings

DEMO_SEED = 7
DEMO_SCALE = 0.3
TODAY = date(2026, 11, 22)  # fixed "today" for scopes, so tests do not drift with the calendar


# Every test that takes `operational_url` (or `own_settings`, or `ops_app`) runs once on each kind.
OPERATIONAL_STORES = ("sqlite", "postgresql")


def settings_for(folder: Path, operational_url: str | None = None) -> Settings:
    return replace(load_settings({"DATA_DIR": str(folder)}), operational_db_url=operational_url)


@pytest.fixture(scope="session")
def postgres() -> Iterator[ThrowawayPostgres]:
    """A PostgreSQL server for the whole run (as a non-root user, on a loopback port), stopped at its end."""
    server = ThrowawayPostgres().start()
    yield server
    server.stop()


@pytest.fixture(scope="session")
def postgres_template(postgres: ThrowawayPostgres) -> str:
    """A database brought to the newest migration once, copied for each test (a copy costs ~40 ms)."""
    from operational import tables as operational

    name = postgres.create_database()
    operational.connect(postgres.url(name)).dispose()
    return name


def new_operational_url(request: pytest.FixtureRequest, kind: str, folder: Path) -> str:
    """A new, empty operational store of ``kind``: a SQLite file in ``folder``, or a PostgreSQL
    database on the session's server, dropped when the test (or module) that asked for it ends."""
    if kind == "sqlite":
        folder.mkdir(parents=True, exist_ok=True)
        return f"sqlite:///{folder / 'operational.sqlite'}"
    server: ThrowawayPostgres = request.getfixturevalue("postgres")
    name = server.create_database(template=request.getfixturevalue("postgres_template"))
    request.addfinalizer(lambda: server.drop_database(name))
    return server.url(name)


@pytest.fixture(params=OPERATIONAL_STORES)
def operational_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    return new_operational_url(request, request.param, tmp_path / "operational")


@pytest.fixture(scope="session")
def demo_settings(tmp_path_factory: pytest.TempPathFactory) -> Settings:
    settings = settings_for(tmp_path_factory.mktemp("demo-store"))
    build_demo_store(settings, seed=DEMO_SEED, scale=DEMO_SCALE, progress=False)
    return settings


@pytest.fixture(scope="session")
def demo_extract() -> pl.DataFrame:
    """The very rows the demo store was built from, as text (the extract format)."""
    return synthetic_extract(DEMO_SEED, DEMO_SCALE)


@pytest.fixture
def conn(demo_settings: Settings) -> Iterator[duckdb.DuckDBPyConnection]:
    connection = open_readonly(demo_settings.store_path)
    yield connection
    connection.close()


@pytest.fixture
def fresh_settings(tmp_path: Path) -> Settings:
    return settings_for(tmp_path / "instance")


@pytest.fixture(scope="session")
def dash_app(demo_settings: Settings):
    from dashboard.app import create_app

    # The suite downloads hundreds of CSVs a minute as one user (forged-request sweeps), far past
    # the per-user download limit; tests/dashboard/test_rate_limits.py checks that limit on apps of its own.
    # The server-time limit stays at its default: no test here, asking one thing at a time, reaches it.
    app = create_app(replace(demo_settings, rate_limit_downloads=1_000_000))
    app.server.config["TESTING"] = True
    return app


def csrf_token(client) -> str:
    """The CSRF token the login page hands this client."""
    page = client.get("/login").get_data(as_text=True)
    found = re.search(r'name="csrf_token" value="([^"]+)"', page)
    assert found, "the login page has no CSRF token"
    return found.group(1)


def post_login(client, username: str, password: str, query: str = ""):
    """Post the login form as a browser would (with its CSRF token)."""
    data = {"username": username, "password": password, "csrf_token": csrf_token(client)}
    return client.post(f"/login{query}", data=data)


def signed_in(dash_app, username: str, password: str | None = None):
    """A Flask test client signed in as a demo user (password demo-<name> by default)."""
    client = dash_app.server.test_client()
    response = post_login(client, username, password or f"demo-{username}")
    assert response.status_code == 302, response.get_data(as_text=True)[:300]
    return client


@pytest.fixture
def own_settings(tmp_path: Path, demo_settings: Settings, operational_url: str) -> Settings:
    """A copy of the demo store with an operational store of its own (of each kind), for tests
    that change the mapping or users (the changes stay in that test)."""
    settings = settings_for(tmp_path / "instance", operational_url)
    settings.data_dir.mkdir(parents=True)
    shutil.copyfile(demo_settings.store_path, settings.store_path)
    return settings


def make_app(settings: Settings):
    from dashboard.app import create_app

    app = create_app(settings)
    app.server.config["TESTING"] = True
    return app


@pytest.fixture
def mail_server():
    """A real SMTP server on a free loopback port for one test, stopped by it."""
    from tests.mail_server import MailServer

    server = MailServer()
    server.start()
    yield server
    server.stop()


@pytest.fixture(scope="module", params=OPERATIONAL_STORES)
def ops_app(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory, demo_settings: Settings):
    """The demo app on an operational store of each kind, shared by a module's tests of sessions,
    throttling and the audit log (the deaths store is the session's)."""
    folder = tmp_path_factory.mktemp(f"ops-{request.param}")
    url = new_operational_url(request, request.param, folder)
    return make_app(replace(demo_settings, operational_db_url=url, rate_limit_downloads=1_000_000))

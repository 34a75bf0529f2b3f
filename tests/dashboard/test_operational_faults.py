"""PostgreSQL stopped while the app serves: a plain 503 for pages, callbacks, downloads and the
health check, no sign-in accepted meanwhile, and everything back by itself once it returns."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest

from scripts.throwaway_postgres import ThrowawayPostgres
from settings import Settings
from tests.conftest import csrf_token, make_app, post_login, settings_for, signed_in
from tests.dash_client import OVERVIEW as OVERVIEW_CALLBACK
from tests.dash_client import DashClient

OVERVIEW = "overview-headline"
UNAVAILABLE = "the service is unavailable; try again in a moment"


@pytest.fixture
def own_postgres() -> Iterator[ThrowawayPostgres]:
    """A server of this test's own, since the test stops it."""
    server = ThrowawayPostgres().start()
    yield server
    server.stop()


def test_postgresql_stopped_gives_503s_refuses_sign_in_and_recovers_without_a_restart(
    tmp_path: Path, demo_settings: Settings, own_postgres: ThrowawayPostgres
) -> None:
    settings = settings_for(tmp_path / "instance", own_postgres.url(own_postgres.create_database()))
    settings.data_dir.mkdir(parents=True)
    shutil.copyfile(demo_settings.store_path, settings.store_path)
    app = make_app(settings)
    llr = DashClient(signed_in(app, "llr"))
    assert llr.call(OVERVIEW_CALLBACK, {"url.search": ""}).status_code == 200
    newcomer = app.server.test_client()
    token = csrf_token(newcomer)  # the sign-in page itself needs no store

    own_postgres.halt()
    for response in (
        llr.call(OVERVIEW_CALLBACK, {"url.search": "?fy=2024"}),
        llr.client.get("/"),
        llr.client.get("/_dash-layout"),
        llr.client.get("/download/cases.csv"),
    ):
        assert response.status_code == 503
        assert response.get_json() == {"error": UNAVAILABLE}
    health = llr.client.get("/healthz")
    assert health.status_code == 503 and health.get_data(as_text=True) == "unavailable"
    refused = newcomer.post("/login", data={"username": "ncl", "password": "demo-ncl", "csrf_token": token})
    assert refused.status_code == 503 and "Traceback" not in refused.get_data(as_text=True)

    own_postgres.resume()
    assert llr.call(OVERVIEW_CALLBACK, {"url.search": "?fy=2024"}).status_code == 200  # the same session, the same app
    assert llr.client.get("/healthz").get_data(as_text=True) == "ok"
    assert newcomer.get("/_dash-layout").status_code == 401  # the refused sign-in left nobody signed in
    assert post_login(newcomer, "ncl", "demo-ncl").status_code == 302

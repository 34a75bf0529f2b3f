"""Signed-in clients the dashboard's tests share (one per test module, as each module had its own)."""

from __future__ import annotations

import pytest

from tests.conftest import signed_in
from tests.dash_client import DashClient


@pytest.fixture(scope="module")
def llr(dash_app) -> DashClient:
    return DashClient(signed_in(dash_app, "llr"))


@pytest.fixture(scope="module")
def admin(dash_app) -> DashClient:
    return DashClient(signed_in(dash_app, "admin", "admin-demo"))

"""The users page through Dash's HTTP endpoint, and the one-off password a user must change."""

from __future__ import annotations

import json
import re

import pytest

from operational import accounts, audit
from settings import Settings
from tests.conftest import make_app, post_login, signed_in
from tests.dash_client import DashClient

CHANGED = ["users-go.n_clicks"]


@pytest.fixture
def app(own_settings: Settings):
    return make_app(own_settings)


def act(admin: DashClient, action: str, username: str, cdop: str = "", role: str = "cdop") -> str:
    values = {
        "users-go.n_clicks": 1,
        "users-action.value": action,
        "users-name.value": username,
        "users-cdop.value": cdop,
        "users-role.value": role,
    }
    return json.dumps(admin.outputs("users-result.children", values, changed=CHANGED))


def one_off(result: str) -> str:
    found = re.search(r'"children": "([^"]+)", "id": "users-one-off"', result)
    assert found, result
    return found.group(1)


def test_a_new_user_must_change_the_one_off_password_before_anything_else(app) -> None:
    admin = DashClient(signed_in(app, "admin", "admin-demo"))
    created = act(admin, "create", "jane.smith", "LLR")
    assert "Done: create a user for jane.smith" in created
    password = one_off(created)
    jane = app.server.test_client()
    response = post_login(jane, "jane.smith", password)
    assert response.status_code == 302 and response.headers["Location"].endswith("/password")
    assert jane.get("/").status_code == 302  # every page sends her to choose a password
    assert jane.post("/_dash-update-component", json={}).status_code == 403
    assert jane.get("/download/by-trust.csv").status_code == 403
    token = csrf_token_of(jane.get("/password").get_data(as_text=True))
    weak = jane.post("/password", data={"current": password, "new": "short", "confirm": "short", "csrf_token": token})
    assert weak.status_code == 400 and "at least 12 characters" in weak.get_data(as_text=True)
    new = "a long and new passphrase"
    good = jane.post("/password", data={"current": password, "new": new, "confirm": new, "csrf_token": token})
    assert good.status_code == 302 and "changed=1" in good.headers["Location"]
    assert accounts.get_user_by_name(app.server.extensions["cdop"].engine, "jane.smith").must_change_password is False
    again = app.server.test_client()
    assert post_login(again, "jane.smith", new).headers["Location"] == "/"
    listing = json.dumps(admin.outputs("users-table.children", {"users-result.children": None}))
    assert "jane.smith" in listing and "never" not in _row(listing, "jane.smith")


def csrf_token_of(page: str) -> str:
    found = re.search(r'name="csrf_token" value="([^"]+)"', page)
    assert found
    return found.group(1)


def _row(listing: str, username: str) -> str:
    start = listing.index(username)
    return listing[start : start + 400]


def test_disable_reset_grant_revoke_and_role_are_audited(app) -> None:
    engine = app.server.extensions["cdop"].engine
    admin = DashClient(signed_in(app, "admin", "admin-demo"))
    assert "Done" in act(admin, "grant", "glos", "woe")
    assert accounts.get_user_by_name(engine, "glos").cdop_codes == ("GLOS", "WOE")
    assert "Done" in act(admin, "revoke", "glos", "WOE")
    assert "Done" in act(admin, "role", "glos", role="admin")
    assert accounts.get_user_by_name(engine, "glos").is_admin
    assert "Done" in act(admin, "role", "glos", role="cdop")
    reset = act(admin, "reset", "glos")
    assert accounts.get_user_by_name(engine, "glos").must_change_password
    assert post_login(app.server.test_client(), "glos", one_off(reset)).headers["Location"].endswith("/password")
    assert "Done" in act(admin, "disable", "glos")
    assert post_login(app.server.test_client(), "glos", one_off(reset)).status_code == 401
    actions = [e["detail"]["action"] for e in audit.recent(engine, event="admin_action") if e["username"] == "admin"]
    assert actions[:6] == ["user disable", "user reset", "user role", "user role", "user revoke", "user grant"]


@pytest.mark.parametrize(
    ("action", "username", "cdop", "role", "message"),
    [
        ("grant", "glos", "NOPE", "cdop", "there is no CDOP NOPE in the mapping"),
        ("create", "Bad Name!", "LLR", "cdop", "usernames are 2-64 characters"),
        ("create", "glos", "GLOS", "cdop", "user 'glos' already exists"),
        ("create", "newbie", "", "cdop", "there is no CDOP (blank)"),
        ("revoke", "glos", "GLOS", "cdop", "GLOS is glos's only CDOP"),
        ("disable", "admin", "", "cdop", "you cannot disable, demote or reset your own account"),
        ("disable", "nobody", "", "cdop", "no user 'nobody'"),
        ("role", "glos", "", "cdop", "glos is already cdop"),
    ],
)
def test_bad_changes_say_why_and_change_nothing(app, action, username, cdop, role, message) -> None:
    engine = app.server.extensions["cdop"].engine
    before = accounts.list_users(engine)
    admin = DashClient(signed_in(app, "admin", "admin-demo"))
    result = act(admin, action, username, cdop, role)
    assert "Nothing was changed: " + message in result
    assert accounts.list_users(engine) == before


def test_a_cdop_user_gets_nothing_from_the_users_page_and_is_recorded(app) -> None:
    glos = DashClient(signed_in(app, "glos"))
    values = {
        "users-go.n_clicks": 1,
        "users-action.value": "role",
        "users-name.value": "glos",
        "users-role.value": "admin",
    }
    assert glos.call("users-result.children", values, changed=CHANGED).status_code == 204
    assert glos.call("users-table.children", {"users-result.children": None}).status_code == 204
    engine = app.server.extensions["cdop"].engine
    assert not accounts.get_user_by_name(engine, "glos").is_admin
    refusals = [e for e in audit.recent(engine, event="forbidden") if e["username"] == "glos"]
    assert len(refusals) == 2 and {r["detail"]["page"] for r in refusals} == {"/admin/users"}
    assert "Access denied" in json.dumps(glos.outputs("main.children", {"url.pathname": "/admin/users"}))


def test_the_csrf_token_is_required_to_change_a_password(app) -> None:
    client = signed_in(app, "llr")
    new = "a long and new passphrase"
    refused = client.post("/password", data={"current": "demo-llr", "new": new, "confirm": new})
    assert refused.status_code == 400
    assert accounts.authenticate(app.server.extensions["cdop"].engine, "llr", "demo-llr") is not None

"""Administrators only, proved for every callback and route the app has.

The callbacks are enumerated from /_dash-dependencies and the routes from the
Flask URL map, so nothing depends on remembering to list a new one here: each
is either marked administrators-only (``dashboard.auth.admin_gate``), and then
a signed-in CDOP user is refused and the attempt audited, or it is in the
allow-lists below of what belongs to the report itself. A new admin callback
or route left unmarked is in neither, and fails this test.
"""

from __future__ import annotations

from typing import Any

import pytest

from dashboard.auth.admin_gate import marked_callbacks, marked_routes
from dashboard.views import VIEWS, admin_only
from operational import audit
from tests.conftest import csrf_token, signed_in
from tests.dash_client import DashClient

CDOP_USER = "ncl"

# Server-side callbacks any signed-in user may call, as module.function (the last part of the
# module's name, so that moving a module does not change its entry). The router is here: it is
# the report's own, and refuses admin pages by path (test_the_router_refuses_every_admin_page).
REPORT_CALLBACKS = {
    "shell.route",
    "overview.refresh",
    "whatsnew.refresh",
    "whatsnew.choose_since",
    "whatsnew.mark_seen",
    "whatsnew.indicator",
    "trusts.refresh",
    "trusts.drill_down",
    "reviewing.refresh",
    "reviews.refresh",
    "reviews.refresh_england",
    "reviews.refresh_windows",
    "reviews.remember_choice",
    "trends.refresh",
    "trends.remember_choice",
    "map.refresh",
    "map.choose_lines",
    "cases.rows",
    "cases.refresh",
    "about.facts",
    "my_settings.save",  # the signed-in user's own digest settings (tests/digest/test_settings_page.py)
    "my_settings.resend",
    "saved_views.act",  # saved views: each user's own (an administrator's offer to a CDOP is checked inside)
}
# Routes (by endpoint) that are not administrators-only: the sign-in pages, Dash's own
# routes, static files, the health check and the report's downloads.
REPORT_ROUTES = {
    "static",
    "_dash_assets.static",
    "auth.login_page",
    "auth.login",
    "auth.password_page",
    "auth.change_password",
    "auth.logout",
    "health",
    "download",
    "verify_form",  # following a digest address's link: the signed-in user's own (tests/digest/test_settings_page.py)
    "verify",
    "pack_download",  # the panel pack (dashboard.pack.route)
    "open_saved",  # opening one's own saved view (dashboard.saved_open)
    "/",
    "/<path:path>",
    "/_dash-layout",
    "/_dash-dependencies",
    "/_dash-update-component",
    "/_dash-component-suites/<string:package_name>/<path:fingerprinted_path>",
    "/_reload-hash",
    "/_favicon.ico",
}
ADMIN_PAGES = {view.PATH for view in VIEWS if admin_only(view)}


def callback_name(dash_app, output: str) -> str:  # type: ignore[no-untyped-def]
    function = dash_app.callback_map[output]["callback"]
    return f"{function.__module__.rsplit('.', 1)[-1]}.{function.__qualname__}"


def newest_forbidden_id(engine) -> int:  # type: ignore[no-untyped-def]
    newest = audit.recent(engine, limit=1, event="forbidden")
    return newest[0]["id"] if newest else 0


def forbidden_since(engine, after: int) -> list[dict[str, Any]]:  # type: ignore[no-untyped-def]
    return [entry for entry in audit.recent(engine, limit=20, event="forbidden") if entry["id"] > after]


@pytest.fixture(scope="module")
def clients(dash_app) -> tuple[DashClient, DashClient]:
    return DashClient(signed_in(dash_app, CDOP_USER)), DashClient(signed_in(dash_app, "admin", "admin-demo"))


def server_callbacks(client: DashClient) -> list[dict[str, Any]]:
    return [d for d in client.dependencies if not d.get("clientside_function")]


def test_every_callback_is_marked_admin_only_or_is_the_reports_own(dash_app, clients) -> None:
    cdop, _ = clients
    marked = marked_callbacks(dash_app)
    unmarked = {callback_name(dash_app, d["output"]) for d in server_callbacks(cdop) if d["output"] not in marked}
    assert unmarked == REPORT_CALLBACKS
    assert set(marked) <= {d["output"] for d in server_callbacks(cdop)}
    # every admin page's callbacks are marked as that page, and every marked page is an admin page
    assert set(marked.values()) == ADMIN_PAGES


def test_every_route_is_marked_admin_only_or_is_the_reports_own(dash_app) -> None:
    endpoints = {rule.endpoint for rule in dash_app.server.url_map.iter_rules()}
    marked = marked_routes(dash_app.server)
    assert endpoints - set(marked) == REPORT_ROUTES
    assert {"audit_download", "ods_form", "ods_preview"} <= set(marked)


def test_each_marked_callback_refuses_a_cdop_user_audits_it_and_serves_an_administrator(dash_app, clients) -> None:
    cdop, admin = clients
    engine = dash_app.server.extensions["cdop"].engine
    marked = marked_callbacks(dash_app)
    for dependency in server_callbacks(cdop):
        page = marked.get(dependency["output"])
        if page is None:
            continue
        before = newest_forbidden_id(engine)
        refused = cdop.client.post("/_dash-update-component", json=cdop.body(dependency, {}))
        assert refused.status_code == 204, (dependency["output"], refused.status_code)  # no update at all
        entries = forbidden_since(engine, before)
        assert [(e["username"], e["detail"]["page"]) for e in entries] == [(CDOP_USER, page)], dependency["output"]

        before = newest_forbidden_id(engine)
        served = admin.client.post("/_dash-update-component", json=admin.body(dependency, {}))
        assert served.status_code == 200, (dependency["output"], served.status_code)
        assert forbidden_since(engine, before) == []


def test_each_marked_route_refuses_a_cdop_user_with_403_audits_it_and_serves_an_administrator(
    dash_app, clients
) -> None:
    cdop, admin = clients
    engine = dash_app.server.extensions["cdop"].engine
    marked = marked_routes(dash_app.server)
    rules = [rule for rule in dash_app.server.url_map.iter_rules() if rule.endpoint in marked]
    assert len(rules) == len(marked)
    for rule in rules:
        assert not rule.arguments, rule.rule  # one address per admin route: nothing to guess
        for method in sorted(rule.methods - {"HEAD", "OPTIONS"}):
            for client, refused in ((cdop.client, True), (admin.client, False)):
                # a valid form token: what stops a CDOP user must be the mark, not the CSRF check
                data = {"csrf_token": csrf_token(client)} if method == "POST" else None
                before = newest_forbidden_id(engine)
                response = client.open(rule.rule, method=method, data=data)
                entries = forbidden_since(engine, before)
                if refused:
                    assert response.status_code == 403, (method, rule.rule, response.status_code)
                    assert [(e["username"], e["detail"]["page"]) for e in entries] == [
                        (CDOP_USER, marked[rule.endpoint])
                    ]
                else:
                    assert response.status_code != 403 and entries == [], (method, rule.rule)


def test_the_router_refuses_every_admin_page_and_audits_it(dash_app, clients) -> None:
    cdop, _ = clients
    engine = dash_app.server.extensions["cdop"].engine
    for page in sorted(ADMIN_PAGES):
        before = newest_forbidden_id(engine)
        shown = cdop.outputs("main.children", {"url.pathname": page, "url.search": ""})
        assert "Access denied" in str(shown["main.children"]), page
        assert [(e["username"], e["detail"]["page"]) for e in forbidden_since(engine, before)] == [(CDOP_USER, page)]

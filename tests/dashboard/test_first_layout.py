"""The first layout draws the page it is fetched for (``shell.requested_page``), so a full page load
needs no round trip through the router, and the router leaves that drawing alone. The address
comes from the request's Referer, a value the browser sends: it must get exactly what the router
would give for the same path, refusals and audit included, and nothing from another origin."""

from __future__ import annotations

from typing import Any

import pytest

from dashboard.ui import ids
from dashboard.views import VIEWS, admin_only
from operational import audit
from tests.conftest import signed_in
from tests.dash_client import DashClient

HOST = "http://localhost"  # the Flask test client's origin
ADMIN_PAGES = sorted(view.PATH for view in VIEWS if admin_only(view))


@pytest.fixture(scope="module")
def ncl(dash_app) -> DashClient:
    return DashClient(signed_in(dash_app, "ncl"))


def first_layout(client: DashClient, referrer: str | None) -> dict[str, Any]:
    headers = {"Referer": referrer} if referrer is not None else {}
    response = client.client.get("/_dash-layout", headers=headers)
    assert response.status_code == 200
    return response.get_json()


def component(layout: Any, wanted: str) -> dict[str, Any] | None:
    """The component with id ``wanted`` anywhere in a layout's JSON."""
    if isinstance(layout, list):
        for item in layout:
            found = component(item, wanted)
            if found is not None:
                return found
    elif isinstance(layout, dict):
        props = layout.get("props")
        if isinstance(props, dict) and props.get("id") == wanted:
            return layout
        for value in (props or {}).values() if isinstance(props, dict) else layout.values():
            found = component(value, wanted)
            if found is not None:
                return found
    return None


def drawn(layout: dict[str, Any]) -> dict[str, Any]:
    main = component(layout, ids.MAIN)
    assert main is not None
    return {
        "main": main["props"].get("children"),
        "path": component(layout, ids.DRAWN_PATH)["props"].get("data"),  # type: ignore[index]
        "title": component(layout, ids.PAGE_TITLE)["props"].get("data"),  # type: ignore[index]
        "filters_hidden": component(layout, ids.FILTER_BAR)["props"].get("hidden"),  # type: ignore[index]
        "trusts_link": component(layout, ids.nav_link("trusts"))["props"].get("className"),  # type: ignore[index]
    }


def newest_audit_id(engine) -> int:  # type: ignore[no-untyped-def]
    entries = audit.recent(engine, limit=1)
    return entries[0]["id"] if entries else 0


def test_the_page_asked_for_is_drawn_with_its_title_navigation_and_filter_bar(ncl: DashClient) -> None:
    shown = drawn(first_layout(ncl, f"{HOST}/trusts?fy=2023"))
    assert component(shown["main"], ids.DRILL_CHART) is not None
    assert shown["path"] == "/trusts"
    assert shown["title"].startswith("Trusts and hospitals")
    assert shown["trusts_link"] == "nav-link active" and shown["filters_hidden"] is False
    news = drawn(first_layout(ncl, f"{HOST}/new"))  # a view that does not follow the filter bar
    assert news["path"] == "/new" and news["title"].startswith("What") and news["filters_hidden"] is True
    assert news["trusts_link"] == "nav-link" and component(news["main"], ids.DRILL_CHART) is None


def test_the_view_is_drawn_with_the_query_s_view_settings(ncl: DashClient) -> None:
    """What the router passes a view's layout from the query (the trends page's grain)."""
    by_month = drawn(first_layout(ncl, f"{HOST}/trends?grain=month"))["main"]
    by_year = drawn(first_layout(ncl, f"{HOST}/trends"))["main"]
    assert by_month != by_year
    assert (
        by_month
        == ncl.outputs("main.children", {"url.pathname": "/trends", "url.search": "?grain=month"})["main.children"]
    )


@pytest.mark.parametrize(
    "referrer",
    [
        None,
        "",
        "https://elsewhere.example/trusts",  # another origin: not this app's page
        "http://localhost.evil.example/trusts",
        "javascript:alert(1)",
        "not a url at all",
    ],
)
def test_without_a_referer_from_this_origin_nothing_is_drawn_and_the_router_draws_it(
    ncl: DashClient, referrer: str | None
) -> None:
    shown = drawn(first_layout(ncl, referrer))
    assert shown["main"] is None and shown["path"] is None and shown["title"] is None


def test_an_unknown_address_is_drawn_as_not_found(ncl: DashClient) -> None:
    shown = drawn(first_layout(ncl, f"{HOST}/no-such-page"))
    assert "Page not found" in str(shown["main"]) and shown["filters_hidden"] is True


@pytest.mark.parametrize("page", ADMIN_PAGES)
def test_an_admin_page_is_refused_to_a_cdop_user_and_audited_once(
    dash_app, ncl: DashClient, admin: DashClient, page: str
) -> None:
    engine = dash_app.server.extensions["cdop"].engine
    before = newest_audit_id(engine)
    shown = drawn(first_layout(ncl, f"{HOST}{page}"))
    assert "Access denied" in str(shown["main"]) and shown["filters_hidden"] is True
    entries = [e for e in audit.recent(engine, event="forbidden", limit=20) if e["id"] > before]
    assert [(e["username"], e["detail"]["page"]) for e in entries] == [("ncl", page)]
    # the router's first call then leaves the refusal as drawn: no second audit entry
    left = ncl.outputs("main.children", {"url.pathname": page, "drawn-path.data": page})
    assert left == {"drawn-path.data": None}
    assert [e for e in audit.recent(engine, event="forbidden", limit=20) if e["id"] > before] == entries
    allowed = drawn(first_layout(admin, f"{HOST}{page}"))
    assert "Access denied" not in str(allowed["main"]) and allowed["path"] == page


def test_the_router_leaves_the_first_drawing_alone_once(ncl: DashClient) -> None:
    # the location reports the path the layout drew: nothing is drawn again, and the mark is cleared
    first = ncl.outputs("main.children", {"url.pathname": "/trusts", "drawn-path.data": "/trusts"})
    assert first == {"drawn-path.data": None}
    # the layout drew nothing (no Referer), or drew another path: the router draws, and clears the mark
    nothing = ncl.outputs("main.children", {"url.pathname": "/trusts", "drawn-path.data": None})
    assert component(nothing["main.children"], ids.DRILL_CHART) is not None and "drawn-path.data" not in nothing
    other = ncl.outputs("main.children", {"url.pathname": "/trusts", "drawn-path.data": "/"})
    assert component(other["main.children"], ids.DRILL_CHART) is not None and other["drawn-path.data"] is None


def test_signed_out_the_layout_draws_nothing(dash_app) -> None:
    client = dash_app.server.test_client()
    response = client.get("/_dash-layout", headers={"Referer": f"{HOST}/trusts"})
    assert response.status_code == 401

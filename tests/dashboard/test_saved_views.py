"""Saved views: per user, audited, re-cleaned against the user's scope when opened, and offered by
NCMD to every user of a CDOP; forged ids and values never reach another user's view."""

from __future__ import annotations

from datetime import date
from typing import Any
from urllib.parse import urlencode

import pytest

from dashboard.context import ALL_MINE
from dashboard.ui import ids
from operational import accounts, audit, saved_views
from queries.scope import cdop_scope
from queries.store import open_readonly
from tests.conftest import make_app, signed_in
from tests.dash_client import DashClient

ACT = ids.SAVED_LISTING  # the one callback of the panel: its first output
TRIGGERS = {
    "open": f"{ids.part(ids.SAVED_PANEL, 'summary')}.n_clicks",
    "save": f"{ids.SAVED_SAVE}.n_clicks",
    "rename": f"{ids.SAVED_RENAME}.n_clicks",
    "delete": f"{ids.SAVED_DELETE}.n_clicks",
    "share": f"{ids.SAVED_SHARE}.n_clicks",
}


def act(client: DashClient, action: str, path: Any = "/", search: Any = "", **states: Any) -> dict[str, Any]:
    values = {
        TRIGGERS[action]: 1,
        "url.pathname": path,
        "url.search": search,
        f"{ids.SAVED_NAME}.value": states.get("name"),
        f"{ids.SAVED_LIST}.value": states.get("chosen"),
        f"{ids.SAVED_SHARE_CDOP}.value": states.get("cdop"),
    }
    return client.outputs(ACT, values, changed=[TRIGGERS[action]])


def links(outputs: dict[str, Any]) -> dict[str, str]:
    """{text: href} of the listing's links, and the headings as keys with value ''."""
    found: dict[str, str] = {}

    def walk(node: Any) -> None:
        if isinstance(node, list):
            for item in node:
                walk(item)
        elif isinstance(node, dict):
            props = node.get("props", {})
            if node.get("type") == "A":
                found[props["children"]] = props["href"]
            elif node.get("type") == "H3":
                found[props["children"]] = ""
            walk(props.get("children"))

    walk(outputs[f"{ids.SAVED_LISTING}.children"])
    return found


def engine_of(app) -> Any:
    return app.server.extensions["cdop"].engine


def own_view(app, username: str, name: str) -> saved_views.SavedView:
    user = accounts.get_user_by_name(engine_of(app), username)
    return next(v for v in saved_views.visible_to(engine_of(app), user.id, ()) if v.name == name)


def test_a_user_saves_opens_renames_and_deletes_a_view(dash_app) -> None:
    client = DashClient(signed_in(dash_app, "llr"))
    got = act(client, "save", "/trends", "?fy=2024&trust=RBS&trust=RWE&grain=month", name="  Panel   pack Q1 ")
    assert got[f"{ids.SAVED_STATUS}.children"] == "Saved “Panel pack Q1”."
    assert links(got)["Panel pack Q1 (Trends)"].startswith("/saved/")
    saved = own_view(dash_app, "llr", "Panel pack Q1")
    assert (saved.path, saved.query) == ("/trends", "?grain=month&fy=2024&trust=RWE")  # RBS is not LLR's: dropped
    opened = client.client.get(f"/saved/{saved.id}")
    assert opened.status_code == 302 and opened.headers["Location"] == "/trends?grain=month&fy=2024&trust=RWE"
    got = act(client, "rename", name="Panel, April", chosen=saved.id)
    assert got[f"{ids.SAVED_STATUS}.children"] == "Renamed to “Panel, April”."
    assert {"label": "Panel, April (Trends)", "value": saved.id} in got[f"{ids.SAVED_LIST}.options"]
    got = act(client, "delete", chosen=saved.id)
    assert got[f"{ids.SAVED_STATUS}.children"] == "Deleted “Panel, April”."
    assert client.client.get(f"/saved/{saved.id}").status_code == 404
    events = [e["detail"] for e in audit.recent(engine_of(dash_app), event="saved_view") if e["username"] == "llr"]
    assert [e["action"] for e in events[:4]] == ["delete", "rename", "open", "save"]
    assert events[2]["query"] == "?grain=month&fy=2024&trust=RWE" and events[2]["scope"].startswith("Leicester")


@pytest.mark.parametrize(
    ("path", "name", "said"),
    [
        ("/admin/users", "x", "This page cannot be saved as a view."),
        ("/nowhere", "x", "This page cannot be saved as a view."),
        ("/", "", "Not saved: give the view a name."),
        ("/", "x" * 81, "Not saved: a view's name has at most 80 characters."),
        ("/", {"name": "x"}, "Not saved: give the view a name."),
    ],
)
def test_what_cannot_be_saved_is_said_in_one_line(dash_app, path: str, name: Any, said: str) -> None:
    client = DashClient(signed_in(dash_app, "ncl"))
    assert act(client, "save", path, "", name=name)[f"{ids.SAVED_STATUS}.children"] == said


FORGED_IDS: list[Any] = ["1", 1.0, True, None, [1], {"id": 1}, -1, 10**12, "1 OR 1=1"]


def test_another_users_view_cannot_be_opened_renamed_deleted_or_offered(dash_app) -> None:
    ncl = DashClient(signed_in(dash_app, "ncl"))
    act(ncl, "save", "/", "?fy=2023", name="NCL only")
    theirs = own_view(dash_app, "ncl", "NCL only")
    llr = DashClient(signed_in(dash_app, "llr"))
    response = llr.client.get(f"/saved/{theirs.id}")
    assert response.status_code == 404 and "NCL only" not in response.get_data(as_text=True)
    for chosen in (theirs.id, *FORGED_IDS):
        for action in ("rename", "delete", "share"):
            got = act(llr, action, name="taken", chosen=chosen, cdop="LLR")
            assert "NCL only" not in str(got), (action, chosen)
            assert got[f"{ids.SAVED_STATUS}.children"].startswith(("Choose one of your own", "Only NCMD")), got
    assert own_view(dash_app, "ncl", "NCL only") == theirs  # untouched
    assert "Location" not in llr.client.get("/saved/not-a-number").headers  # the app's "Page not found"
    assert dash_app.server.test_client().get(f"/saved/{theirs.id}").status_code in (302, 401)  # to sign in
    refused = audit.recent(engine_of(dash_app), event="forbidden")[0]
    assert refused["username"] == "llr" and refused["detail"]["what"] == "share a saved view"


def test_ncmd_offers_a_view_to_every_user_of_a_cdop(dash_app) -> None:
    admin = DashClient(signed_in(dash_app, "admin", "admin-demo"))
    act(admin, "save", "/reviewing", "?footprint=LLR&fy=2024", name="Our panel pack")
    mine = own_view(dash_app, "admin", "Our panel pack")
    assert mine.query == "?footprint=LLR&fy=2024"
    got = act(admin, "share", chosen=mine.id, cdop="LLR")
    assert got[f"{ids.SAVED_STATUS}.children"] == "Offered “Our panel pack” to every user of LLR."
    assert any(o["value"] == "LLR" for o in got[f"{ids.SAVED_SHARE_CDOP}.options"])
    assert act(admin, "share", chosen=mine.id, cdop="NOWHERE")[f"{ids.SAVED_STATUS}.children"].startswith("Choose")
    llr = DashClient(signed_in(dash_app, "llr"))
    listed = links(act(llr, "open"))
    assert "Shared by NCMD" in listed
    href = listed["Our panel pack (Reviewing CDOPs, offered to LLR)"]
    # a CDOP user's URL holds no footprint (they have one): the view opens on their own
    assert llr.client.get(href).headers["Location"] == "/reviewing?fy=2024"
    shared_id = int(href.rsplit("/", 1)[1])
    assert act(llr, "delete", chosen=shared_id)[f"{ids.SAVED_STATUS}.children"].startswith("Choose one of your own")
    ncl = DashClient(signed_in(dash_app, "ncl"))
    assert "Shared by NCMD" not in links(act(ncl, "open"))
    assert ncl.client.get(href).status_code == 404


def test_a_view_saved_before_a_footprint_change_never_widens_it(own_settings) -> None:
    app = make_app(own_settings)
    engine = engine_of(app)
    accounts.grant(engine, "llr", "NHAM")
    conn = open_readonly(own_settings.store_path)
    try:
        nham = cdop_scope(conn, ["NHAM"], date.today()).trust_codes
    finally:
        conn.close()
    client = DashClient(signed_in(app, "llr"))
    search = "?" + urlencode([("footprint", ALL_MINE), ("trust", "RWE"), ("trust", nham[0])])
    act(client, "save", "/trusts", search, name="Both footprints")
    saved = own_view(app, "llr", "Both footprints")
    assert nham[0] in saved.query  # while both are hers
    accounts.revoke(engine, "llr", "NHAM")  # her sessions end with it
    again = signed_in(app, "llr")
    location = again.get(f"/saved/{saved.id}").headers["Location"]
    assert location == "/trusts?trust=RWE"
    pack = again.get(f"/download/pack.xlsx?page=/trusts{location.split('?', 1)[1] and '&' + location.split('?', 1)[1]}")
    assert pack.status_code == 200

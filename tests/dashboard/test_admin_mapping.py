"""The footprint mapping page through Dash's HTTP endpoint: preview, apply,
refusals, and the change reaching a CDOP user on its day without a restart."""

from __future__ import annotations

import base64
import json
from dataclasses import replace
from datetime import date

import pytest

from footprints import store as mapping_store
from operational import audit
from queries import report
from queries.filters import Filters
from queries.scope import cdop_scope
from queries.store import open_readonly
from settings import Settings
from tests.conftest import make_app, signed_in
from tests.dash_client import OVERVIEW, DashClient

LATER = "2099-04-01"  # far enough ahead that the calendar never reaches it while the suite runs
MERGE = {
    "map-kind.value": "merge",
    "map-cdops.value": "LLR, NHAM",
    "map-code.value": "EMCD",
    "map-name.value": "East Midlands CDOP",
    "map-date.value": LATER,
}
PREVIEW = ["map-preview-button.n_clicks"]


def text(outputs: dict) -> str:
    return json.dumps(outputs)


def forged_preview(values: dict) -> dict:
    """A preview record as the page would hold it for ``values``, for forcing an apply."""
    from dashboard.views.admin_mapping import FIELDS, _fingerprint

    form = (values["map-kind.value"], *(values.get(f"{f}.value") for f in FIELDS))
    return {"source": "form", "version": "m1", "asked": _fingerprint("form", form, (None,))}


def deaths(settings: Settings, codes: list[str], day, mapping=None) -> int:
    conn = open_readonly(settings.store_path)
    try:
        return int(report.headline(conn, cdop_scope(conn, codes, day, mapping), Filters())["deaths"][0])
    finally:
        conn.close()


def test_an_admin_previews_and_applies_a_merger_that_users_see_on_its_day(own_settings: Settings) -> None:
    app = make_app(own_settings)
    admin = DashClient(signed_in(app, "admin", "admin-demo"))
    shown = admin.outputs("map-preview.children", {**MERGE, "map-preview-button.n_clicks": 1}, changed=PREVIEW)
    body = text(shown)
    day = date.fromisoformat(LATER)
    llr, nham = deaths(own_settings, ["LLR"], day), deaths(own_settings, ["NHAM"], day)
    assert f"{llr:,}" in body and f"{nham:,}" in body and "East Midlands CDOP" in body
    assert shown["map-previewed.data"]["source"] == "form"

    refused = admin.outputs(
        "map-result.children",
        {**MERGE, "map-apply.n_clicks": 1, "map-reason.value": "", "map-previewed.data": shown["map-previewed.data"]},
        changed=["map-apply.n_clicks"],
    )
    assert "give a reason" in text(refused)
    assert mapping_store.latest_revision(app.server.extensions["cdop"].engine) == 1

    applied = admin.outputs(
        "map-result.children",
        {
            **MERGE,
            "map-apply.n_clicks": 2,
            "map-reason.value": "the two partnerships merge",
            "map-previewed.data": shown["map-previewed.data"],
        },
        changed=["map-apply.n_clicks"],
    )
    assert "Applied as revision 2" in text(applied)
    engine = app.server.extensions["cdop"].engine
    entry = audit.recent(engine, event="admin_action")[0]
    assert entry["username"] == "admin" and entry["detail"]["action"] == "mapping merge"
    assert entry["detail"]["preview"]["deaths"]["LLR"] == [llr, entry["detail"]["preview"]["deaths"]["EMCD"][1]]

    # today, LLR's user still sees LLR; on the day (a second worker, same stores), both footprints
    llr_user = DashClient(signed_in(app, "llr"))
    headline = llr_user.outputs(OVERVIEW, {"url.search": ""})
    assert f"{llr:,}" in text(headline)
    on_the_day = make_app(replace(own_settings, fixed_today=day))
    merged = DashClient(signed_in(on_the_day, "llr"))
    after = text(merged.outputs(OVERVIEW, {"url.search": ""}))
    current = mapping_store.load(engine)
    assert f"{deaths(own_settings, ['EMCD'], day, current):,}" in after
    assert deaths(own_settings, ["EMCD"], day, current) >= max(llr, nham)


def test_a_change_that_fails_its_checks_says_why_and_applies_nothing(own_settings: Settings) -> None:
    app = make_app(own_settings)
    admin = DashClient(signed_in(app, "admin", "admin-demo"))
    bad = {**MERGE, "map-cdops.value": "LLR, NOPE"}
    shown = admin.outputs("map-preview.children", {**bad, "map-preview-button.n_clicks": 1}, changed=PREVIEW)
    assert "Nothing was changed: NOPE is not a CDOP in force" in text(shown)
    assert shown["map-previewed.data"] is None
    forced = admin.outputs(
        "map-result.children",
        {**bad, "map-apply.n_clicks": 1, "map-reason.value": "forcing it", "map-previewed.data": forged_preview(bad)},
        changed=["map-apply.n_clicks"],
    )
    assert "NOPE is not a CDOP" in text(forced)
    assert mapping_store.latest_revision(app.server.extensions["cdop"].engine) == 1


def test_a_change_edited_after_its_preview_is_not_applied(own_settings: Settings) -> None:
    app = make_app(own_settings)
    admin = DashClient(signed_in(app, "admin", "admin-demo"))
    shown = admin.outputs("map-preview.children", {**MERGE, "map-preview-button.n_clicks": 1}, changed=PREVIEW)
    edited = {**MERGE, "map-cdops.value": "LLR, NHAM, NOTT"}
    result = admin.outputs(
        "map-result.children",
        {
            **edited,
            "map-apply.n_clicks": 1,
            "map-reason.value": "a good reason",
            "map-previewed.data": shown["map-previewed.data"],
        },
        changed=["map-apply.n_clicks"],
    )
    assert "edited after its preview" in text(result)
    assert mapping_store.latest_revision(app.server.extensions["cdop"].engine) == 1


def test_a_stale_preview_is_not_applied(own_settings: Settings) -> None:
    app = make_app(own_settings)
    admin = DashClient(signed_in(app, "admin", "admin-demo"))
    shown = admin.outputs("map-preview.children", {**MERGE, "map-preview-button.n_clicks": 1}, changed=PREVIEW)
    stale = {**shown["map-previewed.data"], "version": "m0"}
    result = admin.outputs(
        "map-result.children",
        {**MERGE, "map-apply.n_clicks": 1, "map-reason.value": "a good reason", "map-previewed.data": stale},
        changed=["map-apply.n_clicks"],
    )
    assert "changed by someone else" in text(result)
    assert mapping_store.latest_revision(app.server.extensions["cdop"].engine) == 1


def test_an_uploaded_mapping_is_checked_row_by_row(own_settings: Settings) -> None:
    app = make_app(own_settings)
    admin = DashClient(signed_in(app, "admin", "admin-demo"))
    csv = b"trust_code,cdop_code,valid_from,valid_to\nRWE,LLR,2019-04-01,\nRWE,ZZZZ,2019-04-01,\n"
    contents = "data:text/csv;base64," + base64.b64encode(csv).decode()
    shown = admin.outputs(
        "map-preview.children",
        {"map-upload.contents": contents, "map-upload.filename": "official.csv"},
        changed=["map-upload.contents"],
    )
    body = text(shown)
    assert "ZZZZ is not a known CDOP code" in body and "would be left without a CDOP" in body


def test_a_cdop_user_gets_nothing_from_the_mapping_callbacks_and_is_recorded(own_settings: Settings) -> None:
    app = make_app(own_settings)
    glos = DashClient(signed_in(app, "glos"))
    for output, changed in (
        ("map-in-force.children", ["map-day.value"]),
        ("map-history.children", ["map-history-code.value"]),
        ("map-preview.children", PREVIEW),
        ("map-result.children", ["map-apply.n_clicks"]),
    ):
        values = {
            **MERGE,
            "map-apply.n_clicks": 1,
            "map-reason.value": "sneaky",
            "map-previewed.data": {"source": "form"},
        }
        response = glos.call(output, values, changed=changed)
        assert response.status_code == 204, output
    denied = glos.outputs("main.children", {"url.pathname": "/admin/mapping", "url.search": ""})
    assert "Access denied" in text(denied)
    engine = app.server.extensions["cdop"].engine
    refusals = [e for e in audit.recent(engine, event="forbidden") if e["username"] == "glos"]
    assert len(refusals) == 5 and {r["detail"]["page"] for r in refusals} == {"/admin/mapping"}
    assert mapping_store.latest_revision(engine) == 1


def test_the_history_and_the_mapping_in_force(own_settings: Settings) -> None:
    app = make_app(own_settings)
    admin = DashClient(signed_in(app, "admin", "admin-demo"))
    in_force = text(admin.outputs("map-in-force.children", {"map-day.value": "2024-06-01"}, changed=["map-day.value"]))
    assert "Pan-Merseyside" in in_force and "Cheshire and Merseyside CDOP" not in in_force
    history = text(
        admin.outputs("map-history.children", {"map-history-code.value": "mers"}, changed=["map-history-code.value"])
    )
    assert "2025-04-01" in history and "CANDM" in history and "added by revision 1" in history
    unknown = text(
        admin.outputs("map-history.children", {"map-history-code.value": "QQQ"}, changed=["map-history-code.value"])
    )
    assert "No trust or CDOP QQQ" in unknown


# a sweep of forged callback values (25 s), not of the store: SQLite's run is enough
@pytest.mark.parametrize("operational_url", ["sqlite"], indirect=True)
def test_forged_values_from_an_admin_fail_cleanly_and_apply_nothing(own_settings: Settings) -> None:
    from tests.dashboard.test_forged_requests import FORGED_SEARCHES, FORGED_VALUES

    app = make_app(own_settings)
    admin = DashClient(signed_in(app, "admin", "admin-demo"))
    mapping_callbacks = [d for d in admin.dependencies if "map-" in d["output"]]
    assert len(mapping_callbacks) == 4
    for dependency in mapping_callbacks:
        slots = [f"{i['id']}.{i['property']}" for i in (*dependency["inputs"], *dependency.get("state", []))]
        for slot in slots:
            for value in FORGED_VALUES + FORGED_SEARCHES[:3]:
                body = admin.body(dependency, {**MERGE, "map-reason.value": "a valid reason", slot: value}, [slot])
                response = admin.client.post("/_dash-update-component", json=body)
                assert response.status_code in (200, 204), (slot, str(value)[:40], response.status_code)
                assert "Traceback" not in response.get_data(as_text=True)
    assert mapping_store.latest_revision(app.server.extensions["cdop"].engine) == 1

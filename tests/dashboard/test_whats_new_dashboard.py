"""What's new through the app's HTTP interface: two loads, the indicator, the page,
marking seen for one user only, the CSV and its audit entry, and forged input."""

from __future__ import annotations

import csv
import io
import re
import time
from datetime import date, datetime
from pathlib import Path

import polars as pl
import pytest

from dashboard.ui import ids
from dashboard.views import whatsnew as page
from ingest.loader import load_rows
from operational import accounts, audit, visits
from queries.store import open_readonly
from settings import Settings, load_settings
from tests.conftest import signed_in
from tests.dash_client import DashClient
from tests.extract_rows import row

CAMDEN = "E09000007"
NURSE = ("llr.nurse", "a long enough password 1")
NCL_SITE = "RP401"  # Great Ormond Street: North Central London's footprint


def synthetic(case_id: str, **changes: str) -> dict[str, str]:
    """A synthetic case (so the store is in demo mode) in Leicester Royal Infirmary."""
    return row(f"SYN-{case_id}", **changes)


FIRST = [synthetic(f"OLD-{i}") for i in range(6)] + [
    synthetic("OLD-NCL", site_code=NCL_SITE, reviewing_cdop_code="NCL")
]
ADDED_LLR = [
    synthetic("NEW-RES"),
    synthetic("NEW-AWAY-1", residence_la_code=CAMDEN, reviewing_cdop_code="NCL"),
    synthetic("NEW-AWAY-2", residence_la_code=CAMDEN, reviewing_cdop_code="NCL", place_in_hospital="picu"),
    synthetic(
        "NEW-UNASSIGNED",
        reviewing_cdop_code="",
        review_status="notified",
        review_completed_date="",
        category_of_death="",
    ),
]
ADDED_NCL = [synthetic("NEW-NCL", site_code=NCL_SITE, residence_la_code=CAMDEN, reviewing_cdop_code="NCL")]


def load(settings: Settings, rows: list[dict[str, str]], name: str) -> None:
    load_rows(
        pl.DataFrame(rows), settings, source_name=name, source_sha256=None, replace=False, as_at=date(2025, 6, 30)
    )


def second_extract() -> list[dict[str, str]]:
    rows = [*FIRST, *ADDED_LLR, *ADDED_NCL]
    rows[0] = synthetic("OLD-0", review_status="under_review", review_completed_date="", category_of_death="")
    return rows


class World:
    """An app over its own store, with users who visited after the first load."""

    def __init__(self, folder: Path, **environ: str) -> None:
        from dashboard.app import create_app

        self.settings = load_settings({"DATA_DIR": str(folder), **environ})
        load(self.settings, FIRST, "first")
        self.app = create_app(self.settings)
        self.app.server.config["TESTING"] = True
        self.engine = self.app.server.extensions["cdop"].engine
        accounts.add_user(self.engine, NURSE[0], NURSE[1], "cdop", ["LLR"])
        self.llr = DashClient(signed_in(self.app, "llr"))
        self.nurse = DashClient(signed_in(self.app, *NURSE))
        self.ncl = DashClient(signed_in(self.app, "ncl"))
        self.first_counts = {name: self.count(self.client(name)) for name in ("llr", "nurse", "ncl")}
        load(self.settings, second_extract(), "second")
        time.sleep(1.1)  # the app looks for a new store file at most once a second

    def client(self, name: str) -> DashClient:
        return {"llr": self.llr, "nurse": self.nurse, "ncl": self.ncl}[name]

    def count(self, client: DashClient, search: str = "") -> int:
        """The number in the navigation's indicator (0 when it shows none)."""
        out = client.outputs(f"{page.NAV}.children", {"url.pathname": "/", "url.search": search})
        children = out[f"{page.NAV}.children"]
        badges = [c for c in children if isinstance(c, dict) and c["props"].get("id") == ids.NEW_COUNT]
        return int(badges[0]["props"]["children"][0].replace(",", "")) if badges else 0

    def page(self, client: DashClient, search: str = "") -> dict[str, object]:
        return client.outputs(f"{ids.WHATSNEW_SUMMARY}.children", {"url.search": search})

    def mark(self, client: DashClient, as_of: object, search: str = "") -> dict[str, object]:
        values = {f"{ids.WHATSNEW_MARK}.n_clicks": 1, f"{ids.WHATSNEW_AS_OF}.data": as_of, "url.search": search}
        return client.outputs(f"{ids.SEEN_MARK}.data", values, changed=[f"{ids.WHATSNEW_MARK}.n_clicks"])

    def newest_load(self) -> datetime:
        conn = open_readonly(self.settings.store_path)
        try:
            return conn.execute("SELECT max(finished_at) FROM load_runs").fetchall()[0][0]
        finally:
            conn.close()


@pytest.fixture
def world(tmp_path: Path) -> World:
    return World(tmp_path / "instance")


def listed_refs(outputs: dict[str, object]) -> list[str]:
    """The case references in the page's tables (the first cell of each body row)."""
    text = str(outputs[f"{ids.WHATSNEW_LIST}.children"])
    return sorted(set(re.findall(r"'children': '(C[0-9A-F]{10})'", text)))


def case_refs(world: World, case_ids: list[str]) -> list[str]:
    conn = open_readonly(world.settings.store_path)
    try:
        rows = conn.execute("SELECT case_ref FROM deaths WHERE list_contains(?, case_id)", [case_ids]).fetchall()
    finally:
        conn.close()
    return sorted(r[0] for r in rows)


def test_after_a_second_load_exactly_the_added_deaths_in_the_footprint_are_new(world: World) -> None:
    assert world.first_counts == {"llr": 0, "nurse": 0, "ncl": 0}  # a first visit sets the mark
    assert world.count(world.llr) == len(ADDED_LLR) == 4
    assert world.count(world.ncl) == len(ADDED_NCL) == 1
    shown = world.page(world.llr)
    assert listed_refs(shown) == case_refs(world, [r["case_id"] for r in ADDED_LLR])
    summary = str(shown[f"{ids.WHATSNEW_SUMMARY}.children"])
    assert summary.startswith("4 deaths in hospitals of Leicester, Leicestershire and Rutland CDOP arrived since")
    assert summary.endswith(". Non-residents reviewed by another CDOP: 2; no reviewing CDOP yet: 1; residents: 1.")


def test_marking_seen_clears_the_list_for_that_user_only(world: World) -> None:
    out = world.mark(world.llr, world.newest_load().isoformat())
    assert out[f"{ids.SEEN_MARK}.data"] == world.newest_load().isoformat()
    assert world.count(world.llr) == 0
    assert listed_refs(world.page(world.llr)) == []
    assert world.count(world.nurse) == 4  # a colleague in the same CDOP keeps their own mark
    assert world.count(world.ncl) == 1
    entry = audit.recent(world.engine, event="mark_seen")[0]
    assert entry["username"] == "llr"
    # the other periods still list the deaths: marking changes the mark, not the data
    assert len(listed_refs(world.page(world.llr, "?since=30d"))) == 4 + 6


def test_a_forged_mark_can_move_only_the_signed_in_users_own_mark_and_never_past_the_data(world: World) -> None:
    nurse_id = accounts.get_user_by_name(world.engine, NURSE[0]).id
    nurse_mark = visits.mark_of(world.engine, nurse_id, lambda: datetime(2000, 1, 1))
    for forged in ("9999-12-31T00:00:00", "not a time", None, 12, ["x"], "2026-01-01T00:00:00+05:00"):
        world.mark(world.llr, forged, f"?user_id={nurse_id}&footprint=NCL")
    assert visits.mark_of(world.engine, nurse_id, lambda: datetime(2000, 1, 1)) == nurse_mark
    llr_id = accounts.get_user_by_name(world.engine, "llr").id
    assert (
        visits.mark_of(world.engine, llr_id, lambda: datetime(2000, 1, 1)) == world.newest_load()
    )  # clamped to the data
    assert world.count(world.nurse) == 4


@pytest.mark.parametrize(
    "search",
    ["?since=2000-01-01&footprint=NCL&user=ncl", "?since=2008-04-01&footprint=ENGLAND", "?footprint=ALL&since=30d"],
)
def test_a_forged_since_or_footprint_never_widens_whose_deaths_are_listed(world: World, search: str) -> None:
    listed = listed_refs(world.page(world.llr, search))
    llr_cases = [r["case_id"] for r in (*FIRST, *ADDED_LLR) if r["site_code"] == "RWEAA"]
    assert listed and set(listed) <= set(case_refs(world, llr_cases))
    assert world.count(world.llr, search) == 4
    text = world.llr.client.get(f"/download/whats-new.csv{search}").get_data(as_text=True)
    assert "Great Ormond" not in text


@pytest.mark.parametrize("since", ["2024-99-99", "yesterday", "2100-01-01", "1999-01-01", "x" * 500])
def test_a_bad_since_gives_a_one_line_message_and_the_default_list(world: World, since: str) -> None:
    shown = world.page(world.llr, f"?since={since}")
    message = shown[f"{ids.WHATSNEW_MESSAGE}.children"]
    assert isinstance(message, str) and "\n" not in message and "Traceback" not in message
    assert message.endswith("Showing deaths new since your last visit.")
    assert len(listed_refs(shown)) == 4
    download = world.llr.client.get(f"/download/whats-new.csv?since={since}")
    assert download.status_code == 400 and download.get_json()["error"] == message.rsplit(" Showing", 1)[0]


def test_choosing_a_bad_date_says_why_and_leaves_the_address_alone(world: World) -> None:
    values = {f"{ids.WHATSNEW_DATE_GO}.n_clicks": 1, f"{ids.WHATSNEW_DATE}.value": "2100-01-01", "url.search": ""}
    out = world.llr.outputs(f"{ids.WHATSNEW_DATE_MESSAGE}.children", values, [f"{ids.WHATSNEW_DATE_GO}.n_clicks"])
    assert out[f"{ids.WHATSNEW_DATE_MESSAGE}.children"].startswith("Choose a date between")
    assert "url.search" not in out
    values[f"{ids.WHATSNEW_DATE}.value"] = "2025-01-01"
    out = world.llr.outputs(f"{ids.WHATSNEW_DATE_MESSAGE}.children", values, [f"{ids.WHATSNEW_DATE_GO}.n_clicks"])
    assert out["url.search"] == "?since=2025-01-01"


def test_the_whats_new_csv_lists_the_new_deaths_and_is_audited(world: World) -> None:
    response = world.llr.client.get("/download/whats-new.csv")
    assert response.status_code == 200 and response.mimetype == "text/csv"
    assert 'filename="LLR_whats-new_since-last-visit_' in response.headers["Content-Disposition"]
    rows = list(csv.DictReader(io.StringIO(response.get_data(as_text=True))))
    assert sorted(r["case_ref"] for r in rows) == case_refs(world, [r["case_id"] for r in ADDED_LLR])
    assert {"group", "date_of_death", "site_name", "place", "age_group", "reviewing_cdop"} <= set(rows[0])
    assert {"days_since_notification", "attention"} <= set(rows[0])
    entry = audit.recent(world.engine, event="download")[0]
    assert entry["username"] == "llr" and entry["detail"]["view"] == "whats-new" and entry["detail"]["rows"] == 4
    refused = world.llr.client.get("/download/whats-new.csv?suppress=1")  # a list of deaths has no published form
    assert refused.status_code == 400 and "no version fit to publish" in refused.get_json()["error"]


def test_the_case_list_shows_the_attention_flags(world: World) -> None:
    response = world.llr.client.get("/download/cases.csv")
    rows = list(csv.DictReader(io.StringIO(response.get_data(as_text=True))))
    flagged = sorted(r["attention"] for r in rows if r["attention"])
    # the unassigned case and the reopened one were notified in May 2024, over a year before the as-at date
    assert flagged == ["No reviewing CDOP after 30 days; Review open over 12 months", "Review open over 12 months"]


def test_the_flag_thresholds_come_from_the_settings(tmp_path: Path) -> None:
    world = World(tmp_path / "instance", UNASSIGNED_FLAG_DAYS="400", OPEN_REVIEW_FLAG_MONTHS="36")
    response = world.llr.client.get("/download/cases.csv")
    flagged = sorted(
        r["attention"] for r in csv.DictReader(io.StringIO(response.get_data(as_text=True))) if r["attention"]
    )
    assert flagged == ["No reviewing CDOP after 400 days"]  # 424 days; open 14 months, under 36


@pytest.mark.parametrize(("name", "value"), [("UNASSIGNED_FLAG_DAYS", "thirty"), ("OPEN_REVIEW_FLAG_MONTHS", "0")])
def test_a_bad_threshold_setting_stops_the_app_with_one_line(name: str, value: str) -> None:
    with pytest.raises(SystemExit) as stopped:
        load_settings({name: value})
    assert str(stopped.value).startswith(name) and "\n" not in str(stopped.value)


def test_a_mark_is_set_once_at_the_first_visit_and_only_ever_moves_forward(operational_url: str) -> None:
    from operational import tables as operational

    engine = operational.connect(operational_url)
    user = accounts.add_user(engine, *NURSE, "cdop", ["LLR"])
    other = accounts.add_user(engine, "llr.doctor", "another long password 2", "cdop", ["LLR"])
    first, later, newest = datetime(2025, 1, 1), datetime(2025, 2, 1), datetime(2025, 3, 1)
    assert visits.mark_of(engine, user.id, lambda: first) == first
    assert visits.mark_of(engine, user.id, lambda: newest) == first  # set once, at the first visit
    assert visits.mark_seen(engine, user.id, newest) == newest
    assert visits.mark_seen(engine, user.id, later) == newest  # an older list does not move it back
    assert visits.mark_of(engine, other.id, lambda: later) == later  # each user has their own
    assert visits.mark_of(engine, user.id, lambda: first) == newest

"""The Reviews page through Dash's HTTP endpoint and its CSVs through the download route: what a
CDOP user's page holds (their hospitals' deaths, England's totals only), the window and breakdown
controls in the URL, the CSVs counting what the page shows, and suppression of small counts."""

from __future__ import annotations

import csv
import io
from datetime import date
from typing import Any

import pytest

from dashboard import review_tables
from dashboard.ui import ids
from dashboard.views import reviews
from queries import report
from queries.disclosure import Relation
from queries.filters import Filters
from queries.report.shares import SHARES
from queries.scope import england_scope
from queries.store import open_readonly
from settings import Settings
from tests.dash_client import DashClient
from tests.dashboard.test_map import scope_of
from tests.queries.test_disclosure import solvable

PERIOD = f"{ids.REVIEWS_PERIOD}.children"
TIMELINESS = f"{ids.part(ids.REVIEWS_TIMELINESS, 'table')}.children"
ENGLAND_CHART = f"{ids.REVIEWS_ENGLAND}.figure"
DOWNLOAD = f"{ids.part(ids.REVIEWS_TIMELINESS, 'download')}.href"
REVIEW_CSVS = tuple(review_tables.TABLES)


def with_store(settings: Settings, read: Any) -> Any:
    conn = open_readonly(settings.store_path)
    try:
        return read(conn)
    finally:
        conn.close()


def rows_of(table: dict) -> list[list[str]]:
    """The body of a ``components.table`` as text cells, row by row."""
    body = table["props"]["children"][0]["props"]["children"][2]["props"]["children"]
    return [[cell["props"]["children"] for cell in row["props"]["children"]] for row in body]


def csv_rows(client: DashClient, name: str, query: str = "") -> list[dict[str, str]]:
    response = client.client.get(f"/download/{name}.csv{query}")
    assert response.status_code == 200, (name, response.status_code, response.get_data(as_text=True)[:200])
    return list(csv.DictReader(io.StringIO(response.get_data(as_text=True))))


def test_the_page_counts_a_cdop_users_completed_reviews_by_year_as_the_query_layer_does(
    llr: DashClient, demo_settings: Settings
) -> None:
    got = llr.outputs(PERIOD, {"url.search": ""})
    assert "Leicester" in got[PERIOD] and "as at" not in got[PERIOD]
    scope = scope_of(demo_settings, "LLR")
    expected = with_store(demo_settings, lambda conn: report.completed_bands(conn, scope, Filters(), "financial_year"))
    totals = {
        label: total
        for label, total in expected.unique("group", maintain_order=True).select("label", "total").iter_rows()
    }
    shown = {row[0]: int(row[1].replace(",", "")) for row in rows_of(got[TIMELINESS])}
    assert shown == totals and sum(shown.values()) > 0


def test_a_cdop_users_england_comparison_holds_england_totals_only(llr: DashClient, demo_settings: Settings) -> None:
    rows = csv_rows(llr, "review-england")
    scope = scope_of(demo_settings, "LLR")
    england = with_store(
        demo_settings, lambda conn: report.headline(conn, england_scope(conn, date.today()), Filters())
    )
    national_deaths = int(england["deaths"][0])
    deaths_rows = [row for row in rows if row["of"] == review_tables.DENOMINATORS["deaths"]]
    assert {row["measure"] for row in deaths_rows} == set(SHARES)
    assert {int(row["england_total"]) for row in deaths_rows} == {national_deaths}
    local = with_store(demo_settings, lambda conn: report.headline(conn, scope, Filters()))
    assert {int(row["total"]) for row in deaths_rows} == {int(local["deaths"][0])}


@pytest.mark.parametrize("name", REVIEW_CSVS)
def test_each_review_csv_downloads_and_is_audited_by_name(llr: DashClient, name: str) -> None:
    rows = csv_rows(llr, name, "?window=5")
    assert rows, name


def press(client: DashClient, button: str, search: str) -> str | None:
    """What the page's button callback writes into the URL when ``button`` is pressed (None: nothing)."""
    (dependency,) = [d for d in client.dependencies if any(i["id"] == button for i in d["inputs"])]
    values = {"url.search": search, f"{button}.n_clicks": 1}
    body = client.body(dependency, values, changed=[f"{button}.n_clicks"])
    response = client.client.post("/_dash-update-component", json=body)
    if response.status_code == 204:
        return None
    assert response.status_code == 200, response.get_data(as_text=True)[:300]
    return response.get_json()["response"]["url"]["search"]


def test_the_window_and_breakdown_live_in_the_url(llr: DashClient) -> None:
    assert press(llr, reviews.WINDOW_BUTTONS["5"], "?fy=2023") == "?window=5&fy=2023"
    assert press(llr, reviews.BY_BUTTONS["reviewing_cdop"], "?window=5") == "?window=5&by=reviewing_cdop"
    assert press(llr, reviews.WINDOW_BUTTONS["3"], "?window=5") == ""  # the default is left out
    assert press(llr, reviews.WINDOW_BUTTONS["3"], "") is None  # already so: nothing changes


def test_forged_window_and_breakdown_fall_back_to_the_defaults(llr: DashClient) -> None:
    forged = llr.outputs(PERIOD, {"url.search": "?window=7&by=trust_code"})
    plain = llr.outputs(PERIOD, {"url.search": ""})
    assert forged == plain
    assert forged[DOWNLOAD] == "/download/review-timeliness.csv"


SMALL = ("?footprint=LLR&fy=2023", "?footprint=KMED&fy=2022&by=reviewing_cdop", "?footprint=CANDM&window=1")


@pytest.mark.parametrize("name", REVIEW_CSVS)
def test_published_review_tables_hide_small_counts_and_the_shares_that_give_them_away(
    admin: DashClient, name: str
) -> None:
    """With suppress=1 no count of 1-4 is published; a hidden count's share, interval and marker are
    hidden too (a share and its total give the count); and in tables whose counts add up to a
    published total, no hidden count can be worked out from the published ones."""
    hidden_somewhere = False
    for query in SMALL:
        plain, published = csv_rows(admin, name, query), csv_rows(admin, name, f"{query}&suppress=1")
        assert len(plain) == len(published)
        for columns in review_tables.PUBLISHED[name]:
            cells, shown, relations = {}, {}, {}
            for row, (before, after) in enumerate(zip(plain, published, strict=True)):
                count, total = int(before[columns.count]), int(before[columns.total])
                group = before[columns.group] if columns.group else "all"
                cells[("count", row)], cells[("total", group)] = count, total
                shown[("count", row)] = None if after[columns.count] == "[c]" else int(after[columns.count])
                shown[("total", group)] = None if after[columns.total] == "[c]" else int(after[columns.total])
                relations.setdefault(group, []).append(("count", row))
                if shown[("count", row)] is None or shown[("total", group)] is None:
                    assert all(after[share] == "[c]" for share in columns.shares), (name, query, after)
            hidden = {key for key, value in shown.items() if value is None}
            assert {key for key, value in cells.items() if 1 <= value <= 4} <= hidden, (name, query)
            assert all(shown[key] == cells[key] for key in cells if key not in hidden)
            if columns.partition:
                lines = [Relation(("total", group), tuple(parts)) for group, parts in relations.items()]
                known = {key: cells[key] for key in cells if key not in hidden}
                assert not (solvable(lines, known, hidden) & hidden), (name, query)
            hidden_somewhere |= bool(hidden)
        if name == "review-windows":
            for before, after in zip(plain, published, strict=True):
                for column in ("current", "previous"):
                    if 1 <= int(before[column]) <= 4:
                        assert after[column] == after["change"] == "[c]", (query, before, after)
                hidden_somewhere |= "[c]" in after.values()
        if name == "review-days":
            for before, after in zip(plain, published, strict=True):
                if 1 <= int(before["reviews"]) <= 4:
                    assert after["reviews"] == after["median_days"] == "[c]", (query, before, after)
                hidden_somewhere |= "[c]" in after.values()
    assert hidden_somewhere, name  # the queries chosen do have small counts to hide


def england_columns(rows: list[dict[str, str]]) -> list[tuple[str, ...]]:
    return [tuple(value for column, value in row.items() if column.startswith("england")) for row in rows]


@pytest.mark.parametrize("name", ["review-england", "review-categories", "review-expected"])
def test_englands_side_never_depends_on_a_trust_hospital_cdop_or_area(
    llr: DashClient, demo_settings: Settings, name: str
) -> None:
    """England's columns are England-level totals: the same whatever trust, hospital, reviewing CDOP,
    residence or area the user narrows their own side to, or forges, and equal to all England's
    count under the filters that stay."""
    scope = scope_of(demo_settings, "LLR")
    trust = scope.trust_codes[0]
    area = with_store(demo_settings, lambda conn: report.residence_table(conn, scope, Filters())["residence_area"][0])
    base = "?fy=2023&age=0-27d"
    reference = csv_rows(llr, name, base)
    for narrowed in (
        f"&trust={trust}",
        "&reviewer=LLR",
        "&residence=footprint",
        f"&area={area}",
        "&footprint=NCL&trust=RP4&site=RP401",
    ):
        rows = csv_rows(llr, name, base + narrowed)
        assert england_columns(rows) == england_columns(reference), narrowed
    if name == "review-england":
        national = with_store(
            demo_settings,
            lambda conn: report.headline(
                conn, england_scope(conn, date.today()), Filters(financial_years=(2023,), age_groups=("0-27d",))
            ),
        )
        deaths = {int(row["england_total"]) for row in reference if row["of"] == "deaths in view"}
        assert deaths == {int(national["deaths"][0])}


def test_a_view_with_no_deaths_draws_empty_tables_and_says_so(llr: DashClient) -> None:
    """A view with no deaths (a day with none) still draws every part of the page, with no share."""
    search = "?from=2019-04-01&to=2019-04-01&place=picu&age=15-17y"
    for output in (PERIOD, ENGLAND_CHART, f"{ids.REVIEWS_CATEGORIES}.figure"):
        got = llr.outputs(output, {"url.search": search})
        assert got, output
    timeliness = llr.outputs(PERIOD, {"url.search": search})
    assert rows_of(timeliness[TIMELINESS]) == []
    assert timeliness[f"{ids.part(ids.REVIEWS_TIMELINESS, 'summary')}.children"].startswith("0 reviews completed")

"""CSV downloads: scoped, streamed, escaped, named and audited."""

from __future__ import annotations

import csv
import io
from datetime import date

import duckdb
import polars as pl
import pytest

from dashboard import review_tables
from dashboard.downloads import DOWNLOADS, LISTS, for_publication
from dashboard.ui import ids
from operational import audit
from queries import report
from queries.disclosure import Relation
from queries.filters import Filters
from queries.scope import cdop_scope
from tests.conftest import signed_in
from tests.dash_client import DashClient
from tests.queries.test_disclosure import solvable

TODAY = date.today()


def rows_of(response) -> list[dict[str, str]]:
    return list(csv.DictReader(io.StringIO(response.get_data(as_text=True))))


@pytest.mark.parametrize("name", DOWNLOADS)
def test_every_download_works_for_a_cdop_user_and_stays_in_the_footprint(
    dash_app, conn: duckdb.DuckDBPyConnection, name: str
) -> None:
    client = signed_in(dash_app, "llr")
    # since: the "What's new" list of every death since 2008 (since the last visit it would be empty)
    response = client.get(
        f"/download/{name}.csv?trust=RBS&trust=RWE&site=RP401&footprint=ENGLAND&grain=month&since=2008-04-01"
    )
    assert response.status_code == 200
    assert response.mimetype == "text/csv"
    disposition = response.headers["Content-Disposition"]
    assert disposition.startswith('attachment; filename="LLR_') and name in disposition
    rows = rows_of(response)
    assert rows, name
    scope = cdop_scope(conn, ["LLR"], TODAY)
    for row in rows:
        for column in ("trust_code", "site_trust_code"):
            if column in row:
                assert row[column] in scope.trust_codes, (name, row)
        if "site_name" in row:
            assert row["site_name"] == "Leicester Royal Infirmary", (name, row)
        if "trust_name" in row:
            assert row["trust_name"] == "University Hospitals of Leicester NHS Trust", (name, row)


def test_the_case_list_download_has_every_case_in_view_and_iso_dates(dash_app, conn: duckdb.DuckDBPyConnection) -> None:
    client = signed_in(dash_app, "ncl")
    response = client.get("/download/cases.csv?fy=2022&fy=2023")
    rows = rows_of(response)
    scope = cdop_scope(conn, ["NCL"], TODAY)
    assert len(rows) == report.case_count(conn, scope, Filters(financial_years=(2022, 2023)))
    assert list(rows[0]) == list(report.CASE_COLUMNS)
    assert all(len(r["date_of_death"]) == 10 and r["date_of_death"][4] == "-" for r in rows)
    assert {r["financial_year"] for r in rows} == {"2022/23", "2023/24"}
    engine = dash_app.server.extensions["cdop"].engine
    latest = audit.recent(engine, event="download")[0]
    assert latest["username"] == "ncl" and latest["detail"]["view"] == "cases"
    assert latest["detail"]["rows"] == len(rows)


def test_admins_download_any_footprint(dash_app, conn: duckdb.DuckDBPyConnection) -> None:
    client = signed_in(dash_app, "admin", "admin-demo")
    everything = rows_of(client.get("/download/by-trust.csv"))
    assert len(everything) > 100
    kent = rows_of(client.get("/download/by-trust.csv?footprint=KMED"))
    expected = report.by_trust(conn, cdop_scope(conn, ["KMED"], TODAY), Filters())
    assert {r["trust_code"] for r in kent} == set(expected["trust_code"])


def test_small_counts_can_be_suppressed_for_publication(dash_app) -> None:
    client = signed_in(dash_app, "llr")
    plain = rows_of(client.get("/download/trust-site-place-age.csv"))
    suppressed = rows_of(client.get("/download/trust-site-place-age.csv?suppress=1"))
    assert len(plain) == len(suppressed)
    for before, after in zip(plain, suppressed, strict=True):
        value = int(before["deaths"])
        assert after["deaths"] == "[c]" if 1 <= value <= 4 else after["deaths"] in (str(value), "[c]")
    assert any(r["deaths"] == "[c]" for r in suppressed)
    frame = for_publication(pl.DataFrame({"financial_year": [2024] * 3, "deaths": [3, 0, 9]}))
    # 0 stays; 9 hides the 3 from the total, and looks like it: no reader can tell which was small
    assert frame.rows() == [(2024, "[c]"), (2024, "0"), (2024, "[c]")]


def test_unknown_downloads_are_404_and_anonymous_ones_401(dash_app) -> None:
    assert signed_in(dash_app, "llr").get("/download/deaths.csv").status_code == 404
    traversal = signed_in(dash_app, "llr").get("/download/..%2Fapp.py.csv")
    assert traversal.mimetype != "text/csv" and "import" not in traversal.get_data(as_text=True)
    assert dash_app.server.test_client().get("/download/by-site.csv").status_code == 401


def test_downloads_escape_cells_that_a_spreadsheet_would_run() -> None:
    from dashboard.downloads import csv_text

    text = csv_text(pl.DataFrame({"name": ["=SUM(A1)", "+44", "-1", "@x", "ok"], "n": [-1, 1, 2, 3, 4]}))
    cells = [row[0] for row in csv.reader(io.StringIO(text))][1:]
    assert cells == ["'=SUM(A1)", "'+44", "'-1", "'@x", "ok"]
    assert "-1" in text.splitlines()[1]  # numbers are not text: a negative number stays a number


# ------------------------------------------------------------------ publication (suppress=1)


def anchors(component: object) -> list[tuple[str, str]]:
    """(text, href) of every link in a rendered Dash component tree."""
    found: list[tuple[str, str]] = []
    if isinstance(component, dict):
        props = component.get("props", {})
        if component.get("type") == "A" and "href" in props:
            found.append((str(props.get("children")), props["href"]))
        for value in props.values():
            found += anchors(value)
    elif isinstance(component, list):
        for item in component:
            found += anchors(item)
    return found


def test_the_publication_link_the_trusts_page_renders_hides_small_counts(dash_app) -> None:
    client = signed_in(dash_app, "llr")
    page = DashClient(client).outputs(ids.DRILL_CRUMBS, {"url.search": "?fy=2023"})
    links = dict(anchors(page[f"{ids.DRILL_TABLE}.children"]))
    href = next(href for text, href in links.items() if "for publication" in text)
    plain_href = next(href for text, href in links.items() if text.startswith("Download every trust"))
    assert "suppress=1" in href and "fy=2023" in href
    plain = rows_of(client.get(plain_href))
    published = rows_of(client.get(href))
    assert len(plain) == len(published) and any(1 <= int(r["deaths"]) <= 4 for r in plain)
    for before, after in zip(plain, published, strict=True):
        if 1 <= int(before["deaths"]) <= 4:
            assert after["deaths"] == "[c]", (before, after)
        else:
            assert after["deaths"] in (before["deaths"], "[c]"), (before, after)
    assert not any(r["deaths"] in {"1", "2", "3", "4"} for r in published)


# long tables of deaths; the Reviews page's share tables are published by rules of their own (test_reviews)
PUBLISHABLE = [name for name in DOWNLOADS if name not in LISTS and name not in review_tables.TABLES]
LONE_SMALL_COUNT = {  # where the demo store gives the table exactly one count of 1-4: the total gives it away
    "by-trust": "?footprint=CANDM",
    "by-site": "?footprint=GLOS&fy=2022",
    "by-place": "?footprint=KMED&fy=2022",
    "by-age-group": "?footprint=CANDM&fy=2022",
    "site-by-review-group": "?footprint=LLR",
    "site-by-residence-group": "?footprint=LLR",
    "trend": "?footprint=NCL&grain=quarter",
}


def number(text: str) -> int | None:
    return int(text) if text.lstrip("-").isdigit() else None


@pytest.mark.parametrize("name", PUBLISHABLE)
def test_no_hidden_count_of_a_published_table_can_be_worked_out(dash_app, name: str) -> None:
    """Each table downloaded with suppress=1, for footprints and years with small counts, read as
    its reader would: its published cells and the total of deaths every page states (and headline's
    columns adding up); no hidden count follows from them."""
    client = signed_in(dash_app, "admin", "admin-demo")
    hidden_somewhere = False
    queries = ["?footprint=LLR&fy=2023", "?footprint=NCL&fy=2022&grain=quarter&split=place", "?footprint=KMED"]
    if name in LONE_SMALL_COUNT:
        queries.append(LONE_SMALL_COUNT[name])
    for query in queries:
        plain = rows_of(client.get(f"/download/{name}.csv{query}"))
        if query == LONE_SMALL_COUNT.get(name):
            assert sum(1 <= int(r["deaths"]) <= 4 for r in plain) == 1, "the demo store has changed"
            assert sum(int(r["deaths"]) for r in plain) > 4
        response = client.get(f"/download/{name}.csv{query}&suppress=1")
        assert response.status_code == 200, response.get_data(as_text=True)
        published = rows_of(response)
        engine = dash_app.server.extensions["cdop"].engine
        assert audit.recent(engine, event="download")[0]["detail"]["suppressed"] is True
        grand = int(rows_of(client.get(f"/download/headline.csv{query}"))[0]["deaths"])
        if name == "headline":
            cells = {column: int(value) for column, value in plain[0].items()}
            shown = {column: number(value) for column, value in published[0].items()}
            relations = [Relation(total, parts) for total, parts in report.HEADLINE_TOTALS]
            known = {"deaths": grand} if grand > 4 else {}
        else:
            cells = {row: int(r["deaths"]) for row, r in enumerate(plain)}
            shown = {row: number(r["deaths"]) for row, r in enumerate(published)}
            relations = [Relation("grand", tuple(cells))]
            known = {"grand": grand} if grand > 4 else {}
        hidden = {key for key, value in shown.items() if value is None}
        assert {key for key, value in cells.items() if 1 <= value <= 4} <= hidden, (name, query)
        assert all(shown[key] == cells[key] for key in cells if key not in hidden)  # the rest as they are
        published_values = {**known, **{key: cells[key] for key in cells if key not in hidden}}
        unknown = hidden | {key for r in relations for key in (r.total, *r.parts) if key not in published_values}
        assert not (solvable(relations, published_values, unknown) & hidden), (name, query)
        hidden_somewhere |= bool(hidden)
    assert hidden_somewhere, name  # the footprints chosen do have small counts to hide


def test_lists_of_deaths_are_not_offered_for_publication(dash_app) -> None:
    client = signed_in(dash_app, "llr")
    for name in LISTS:
        response = client.get(f"/download/{name}.csv?suppress=1&since=2008-04-01")
        assert response.status_code == 400 and "fit to publish" in response.get_json()["error"]


@pytest.mark.parametrize("cdop", ["LLR", "NCL", "KMED", "CANDM"])
def test_headlines_columns_add_up_as_disclosure_control_assumes(conn: duckdb.DuckDBPyConnection, cdop: str) -> None:
    for filters in (Filters(), Filters(financial_years=(2023,))):
        row = report.headline(conn, cdop_scope(conn, [cdop], TODAY), filters).row(0, named=True)
        for total, parts in report.HEADLINE_TOTALS:
            assert row[total] == sum(row[part] for part in parts), (cdop, total)

"""CSV downloads: scoped, streamed, escaped, named and audited."""

from __future__ import annotations

import csv
import io
from datetime import date

import duckdb
import polars as pl
import pytest

from dashboard import audit
from dashboard.downloads import DOWNLOADS, suppress_small_counts
from queries import report
from queries.filters import Filters
from queries.scope import cdop_scope
from tests.conftest import signed_in

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
        assert after["deaths"] == ("<5" if 1 <= value <= 4 else str(value))
    assert any(r["deaths"] == "<5" for r in suppressed)
    frame = suppress_small_counts(pl.DataFrame({"financial_year": [2024], "deaths": [3], "n": [0]}))
    assert frame.row(0) == (2024, "<5", "0")


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

"""The Reviews page in a real browser: a person pools the years and filters, and the page's tables
are the figures its CSVs hold (the CSVs themselves are checked against a recount in tests/queries)."""

from __future__ import annotations

import csv

from tests.browser.conftest import LiveApp, Session
from tests.browser.test_flows import choose

READY = "#reviews-categories .main-svg"


def page_rows(session: Session, table: str) -> list[list[str]]:
    """The cells of a table on the page, row by row (the row's heading first)."""
    rows = session.page.locator(f"#{table} tbody tr")
    return [rows.nth(i).locator("th, td").all_inner_texts() for i in range(rows.count())]


def csv_rows(session: Session, live: LiveApp, link: str) -> list[dict[str, str]]:
    """The CSV behind a download link, fetched as the signed-in user (the link's own address)."""
    href = session.page.get_attribute(f"#{link}", "href")
    assert href and href.startswith("/download/"), href
    answer = session.page.request.get(f"{live.base}{href}")
    assert answer.status == 200, answer.text()[:200]
    return list(csv.DictReader(answer.text().splitlines()))


def count(text: str) -> int:
    return int(text.split(" ")[0].replace(",", ""))


def test_the_reviews_page_pools_years_filters_and_agrees_with_its_csvs(session: Session, live: LiveApp) -> None:
    session.sign_in("ncl")
    session.goto("/reviews?fy=2023", READY)
    before = page_rows(session, "reviews-timeliness-table")

    session.page.click("#reviews-window-5")  # pool five financial years
    session.page.wait_for_url("**window=5**")
    session.settle()
    pooled_heading = session.page.inner_text("#reviews-pooled-title")
    choose(session, "filter-age", "0-27 days")
    assert "window=5" in session.page.url and "age=" in session.page.url
    assert session.page.get_attribute("#reviews-window-5", "aria-pressed") == "true"
    assert session.console_errors == []

    # completed reviews by band: each row's total and each band's count as the CSV has them
    shown = page_rows(session, "reviews-timeliness-table")
    assert shown != before, "the age filter should change the timeliness table"
    published = csv_rows(session, live, "reviews-timeliness-download")
    assert published, "the CSV should have the page's rows"
    by_year: dict[str, dict[str, int]] = {}
    for row in published:
        by_year.setdefault(row["label"], {"total": int(row["total"])})[row["band_label"]] = int(row["reviews"])
    assert [cells[0] for cells in shown] == list(by_year)
    for label, total, within_6, six_to_12, over_12, _median in shown:
        expected = by_year[label]
        assert int(total.replace(",", "")) == expected["total"], label
        assert [count(within_6), count(six_to_12), count(over_12)] == [
            expected["Within 6 months"],
            expected["6 to 12 months"],
            expected["Over 12 months"],
        ], label
    assert all(sum(v for k, v in year.items() if k != "total") == year["total"] for year in by_year.values())

    # the pooled table: five years to the latest chosen, each count and change as its CSV has them
    assert session.page.inner_text("#reviews-pooled-title") == pooled_heading
    windows = {row["label"]: row for row in csv_rows(session, live, "reviews-pooled-download")}
    pooled = page_rows(session, "reviews-pooled-table")
    assert [cells[0] for cells in pooled] == list(windows)
    for label, current, _share, previous, _change in pooled:
        assert count(current) == int(windows[label]["current"]), label
        assert count(previous) == int(windows[label]["previous"]), label
    assert "window=5" in (session.page.get_attribute("#reviews-pooled-download", "href") or "")

"""Printing a report page (A4 landscape, Chromium's own PDF), the panel pack's button and the
saved-view flow, in the browser."""

from __future__ import annotations

import io
import os
import re
from pathlib import Path

import openpyxl
import pytest
from pypdf import PdfReader

from tests.browser.conftest import SCREENSHOTS, Session, screenshot
from tests.browser.test_flows import PAGES

REPORT_PAGES = [page for page in PAGES if page[0] in ("overview", "trusts", "reviewing", "reviews", "trends", "map")]


def words(text: str) -> str:
    return re.sub(r"\s+", " ", text).strip()


def printed(session: Session) -> list[str]:
    """The page printed by Chromium as the browser's print does (A4 landscape from the style sheet):
    the text of each PDF page."""
    pdf = session.page.pdf(prefer_css_page_size=True, print_background=True)
    if os.environ.get("UPDATE_SCREENSHOTS") and session.page.url.split("?")[0].endswith("/"):
        (SCREENSHOTS / "overview-print.pdf").write_bytes(pdf)
        # and a picture of it: the page in print media, as wide as A4 landscape's printable width
        session.page.emulate_media(media="print")
        session.page.set_viewport_size({"width": 1040, "height": 700})
        session.page.screenshot(path=SCREENSHOTS / "overview-print.png", full_page=True)
        session.page.emulate_media(media="screen")
        session.page.set_viewport_size({"width": 1280, "height": 900})
    reader = PdfReader(io.BytesIO(pdf))
    box = reader.pages[0].mediabox
    assert float(box.width) > float(box.height)  # landscape
    assert abs(float(box.width) - 842) < 2 and abs(float(box.height) - 595) < 2  # A4, in points
    return [words(page.extract_text()) for page in reader.pages]


@pytest.mark.parametrize(("name", "path", "ready"), REPORT_PAGES)
def test_each_report_page_prints_whole_charts_and_its_filters_in_words(
    session: Session, name: str, path: str, ready: str
) -> None:
    session.sign_in("ncl")
    session.goto(f"{path}?fy=2024&age=0-27d", ready)
    summary = words(session.page.inner_text("#filter-summary"))
    assert summary.startswith("Showing deaths in hospitals of North Central London CDOP, 2024/25; Age")
    # each chart's title and the summary printed under it, read from the page
    cards = session.page.eval_on_selector_all(
        ".card",
        "cards => cards.filter(c => c.querySelector('.js-plotly-plot')).map(c => "
        "[c.querySelector('h2').innerText, (c.querySelector('.summary') || {innerText: ''}).innerText])",
    )
    assert cards, name
    pages = printed(session)
    everything = " ".join(pages)
    assert summary[:60] in everything  # the filter bar, as its one paragraph
    assert "Sign out" not in everything and "Reset filters" not in everything and "Download pack" not in everything
    for number, text in enumerate(pages, start=1):
        assert "Deaths by hospital trust · North Central London CDOP, 2024/25" in text, (name, number)
        assert f"Page {number} of {len(pages)}" in text and "Data as at" in text, (name, number)
    for title, note in cards:
        where = [n for n, text in enumerate(pages) if words(title)[:40] in text]
        assert where, (name, title)
        if note.strip():  # the chart sits between its title and its note: both on one page, it is whole
            below = [n for n, text in enumerate(pages) if words(note)[:40] in text]
            assert below and set(below) & set(where), (name, title, where, below)
    assert session.console_errors == []


def test_the_print_button_prints(session: Session) -> None:
    session.sign_in("ncl")
    # (a function: an expression whose value is a function, Playwright would call)
    session.page.evaluate("() => { window.print = () => { window.printed = (window.printed || 0) + 1; }; }")
    session.page.get_by_role("button", name="Print or save as PDF").click()
    assert session.page.evaluate("window.printed") == 1


def test_the_pack_button_downloads_this_page_with_its_filters(session: Session) -> None:
    session.sign_in("ncl")
    session.goto("/reviewing?fy=2024", "#review-matrix .main-svg")
    with session.page.expect_download() as download:
        session.page.get_by_role("link", name="Download pack (Excel)").click()
    assert download.value.url.endswith("/download/pack.xlsx?fy=2024&page=%2Freviewing")
    with session.page.expect_download() as download:
        session.page.get_by_role("link", name="Every page for publication, small numbers hidden (Excel)").click()
    assert download.value.url.endswith("/download/pack.xlsx?fy=2024&pages=all&page=%2Freviewing&suppress=1")
    with session.page.expect_download() as download:
        session.page.get_by_role("link", name="Download pack (Excel)").click()
    got = download.value
    book = openpyxl.load_workbook(io.BytesIO(Path(got.path()).read_bytes()))  # (openpyxl goes by the name's ending)
    assert book.sheetnames == [
        "Cover",
        "1. by-reviewing-cdop",
        "2. site-by-review-group",
        "3. site-by-residence-group",
        "4. site-by-reviewing-cdop",
    ]
    cover = {row[0]: row[1] for row in book["Cover"].iter_rows(values_only=True) if row[0]}
    assert cover["Footprint"] == "North Central London CDOP" and cover["Period"] == "2024/25"
    assert cover["Small numbers"].startswith("Not suppressed")
    assert session.console_errors == []


def test_a_user_saves_a_view_and_opens_it_later(session: Session) -> None:
    page = session.page
    session.sign_in("ncl")
    session.goto("/trends?fy=2023&age=0-27d&grain=month", "#trend-chart .main-svg")
    page.get_by_text("Saved views", exact=True).click()
    session.settle()
    page.get_by_label("Name").fill("Neonatal deaths by month")
    page.get_by_role("button", name="Save this view").click()
    session.settle()
    assert page.inner_text("#saved-status") == "Saved “Neonatal deaths by month”."
    # somewhere else, later: the view opens on the page and filters it was saved with
    session.goto("/", "#overview-trust .main-svg")
    page.get_by_text("Saved views", exact=True).click()
    session.settle()
    page.get_by_role("link", name="Neonatal deaths by month (Trends)").click()
    page.wait_for_selector("#trend-chart .main-svg")
    session.settle()
    assert page.url.endswith("/trends?grain=month&fy=2023&age=0-27d")
    assert "2023/24; Age: 0-27 days" in page.inner_text("#filter-summary")
    assert session.console_errors == []


def test_a_cdop_users_pack_read_back_shows_its_cover_and_charts(session: Session) -> None:
    """The README's pictures: a CDOP's pack of every page for 2024/25, for publication, read back
    with openpyxl and drawn from its cells (tests/pack_preview.py), not rendered by Excel."""
    from tests.pack_preview import charts, sheet_html

    session.sign_in("ncl")
    response = session.page.request.get(f"{session.base}/download/pack.xlsx?pages=all&suppress=1&fy=2024")
    assert response.status == 200
    book = openpyxl.load_workbook(io.BytesIO(response.body()))
    for name, picture in (("Cover", "pack-cover"), ("4. by-place", "pack-sheet")):
        session.page.set_content(sheet_html(book, name))
        text = session.page.inner_text("body")
        assert "North Central London CDOP" in text and "2024/25" in text
        screenshot(session.page, picture)
    (chart,) = charts(book, "4. by-place")
    assert chart.kind == "bar" and chart.categories[0] == "Neonatal intensive care unit (level 3)"
    assert session.page.locator("svg rect").count() == len(chart.categories) + 1  # a bar each, and the legend's

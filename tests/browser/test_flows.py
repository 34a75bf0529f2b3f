"""What a person does in the dashboard, in a real browser, checked against the query layer."""

from __future__ import annotations

import csv
import re
from datetime import UTC, date, datetime, timedelta
from urllib.parse import urlparse

import pytest
from playwright.sync_api import Error as PlaywrightError
from sqlalchemy import create_engine, update

from dashboard.urlstate import parse_query, raw_filters
from operational.tables import sessions
from queries import report
from queries.filters import Filters
from queries.scope import Scope, cdop_scope, england_scope
from queries.store import open_readonly
from settings import REFERENCE_DIR
from tests.browser.conftest import LiveApp, Session, screenshot

PAGES = [
    ("overview", "/", "#overview-trust .main-svg"),
    ("trusts", "/trusts", "#drill-chart .main-svg"),
    ("reviewing", "/reviewing", "#review-matrix .main-svg"),
    ("reviews", "/reviews", "#reviews-categories .main-svg"),
    ("trends", "/trends", "#trend-chart .main-svg"),
    ("map", "/map", "#geo-chart .main-svg"),
    ("cases", "/cases", ".ag-row"),
    ("about", "/about", "#about-facts p"),
    ("whatsnew", "/new", "#whatsnew-attention li"),
    ("my settings", "/settings", "#settings-email"),
]


def scope_of(live: LiveApp, cdop: str | None) -> Scope:
    conn = open_readonly(live.settings.store_path)
    try:
        return england_scope(conn, date.today()) if cdop is None else cdop_scope(conn, [cdop], date.today())
    finally:
        conn.close()


def query_layer(live: LiveApp, scope: Scope, url: str) -> tuple[Filters, dict[str, int]]:
    """The filters a URL stands for (cleaned as the app cleans them) and the headline for them."""
    conn = open_readonly(live.settings.store_path)
    try:
        filters = report.filter_options(conn, scope).clean(raw_filters(parse_query(urlparse(url).query)))
        return filters, report.headline(conn, scope, filters).row(0, named=True)
    finally:
        conn.close()


def tiles(session: Session) -> dict[str, int]:
    labels = session.page.locator("#overview-headline .tile-label").all_inner_texts()
    values = session.page.locator("#overview-headline .tile-value").all_inner_texts()
    return {label: int(value.replace(",", "")) for label, value in zip(labels, values, strict=True)}


def assert_headline_matches(session: Session, live: LiveApp, scope: Scope) -> Filters:
    filters, head = query_layer(live, scope, session.page.url)
    shown = tiles(session)
    deaths_label = "Deaths in hospitals in England" if scope.england else "Deaths in hospitals in this footprint"
    assert shown[deaths_label] == head["deaths"], (session.page.url, shown, head)
    assert shown["Non-residents"] == head["non_residents"]
    assert shown["Reviewed by another CDOP"] == head["reviewed_by_another_cdop"]
    assert shown["Not yet assigned a reviewing CDOP"] == head["not_yet_assigned"]
    return filters


def choose(session: Session, dropdown: str, option: str | None = None) -> str:
    """Open a filter dropdown, pick an option (the first if none is named), close it."""
    before = session.page.url
    session.page.click(f"#{dropdown}")
    options = session.page.get_by_role("option")
    options.first.wait_for()
    picked = options.first if option is None else session.page.get_by_role("option", name=option, exact=True)
    text = picked.inner_text()
    picked.click()
    session.page.keyboard.press("Escape")
    session.page.wait_for_function("before => window.location.href !== before", arg=before)
    session.settle()
    return text


def click_bar(session: Session, graph: str, index: int = 0, *, last: bool = False) -> None:
    """Click the middle of a bar, as a person would (plotly listens on its drag layer)."""
    session.settle()
    before = session.page.url
    for attempt in range(3):  # a chart may be redrawn just as we reach for it
        try:
            session.page.locator(f"#{graph}").scroll_into_view_if_needed()
            bars = session.page.locator(f"#{graph} .point path")
            bar = bars.nth(bars.count() - 1) if last else bars.nth(index)
            box = bar.bounding_box()
            assert box is not None
            session.page.mouse.click(box["x"] + box["width"] / 2, box["y"] + box["height"] / 2)
            break
        except PlaywrightError:
            if attempt == 2:
                raise
            session.page.wait_for_timeout(300)
    session.page.wait_for_function("before => window.location.href !== before", arg=before)
    session.settle()


# ------------------------------------------------------------------ flows


def test_a_cdop_user_signs_in_and_sees_who_and_that_the_data_are_synthetic(session: Session) -> None:
    session.page.goto(f"{session.base}/login")
    screenshot(session.page, "login")
    session.sign_in("llr")
    header = session.page.inner_text("header")
    assert "Signed in as llr" in header and "LLR" in header
    assert "Synthetic data" in session.page.inner_text(".synthetic-banner")
    assert "Leicester, Leicestershire and Rutland CDOP" in session.page.inner_text("#filter-summary")
    assert session.page.evaluate("document.documentElement.lang") == "en"


@pytest.mark.parametrize(("name", "path", "ready"), PAGES)
def test_every_page_renders_without_console_errors(session: Session, name: str, path: str, ready: str) -> None:
    session.sign_in("ncl")
    session.goto(path + ("?fy=2024" if name != "about" else ""), ready)
    assert session.page.locator("h1").first.is_visible()
    assert "Synthetic data" in session.page.inner_text(".synthetic-banner")
    assert session.console_errors == []
    screenshot(session.page, name)


def test_the_overview_figures_equal_the_query_layer(session: Session, live: LiveApp) -> None:
    session.sign_in("kmed")
    scope = scope_of(live, "KMED")
    filters = assert_headline_matches(session, live, scope)
    conn = open_readonly(live.settings.store_path)
    try:
        ages = report.by_age_group(conn, scope, filters)
    finally:
        conn.close()
    summary = session.page.inner_text("#overview-age-summary")
    for label, deaths in ages.select("age_group_label", "deaths").iter_rows():
        assert f"{label}: {deaths:,}" in summary


FILTER_CHOICES = [
    ("filter-years", "2023/24", "fy"),
    ("filter-from", "Apr 2024", "from"),
    ("filter-to", "Mar 2021", "to"),
    ("filter-trust", None, "trust"),
    ("filter-site", None, "site"),
    ("filter-place", "Neonatal intensive care unit (level 3)", "place"),
    ("filter-age", "0-27 days", "age"),
    ("filter-reviewer", "Not yet assigned", "reviewer"),
    ("filter-residence", "Resident elsewhere in England", "residence"),
    ("filter-status", "Review completed", "status"),
]


@pytest.mark.parametrize(("dropdown", "option", "param"), FILTER_CHOICES)
def test_each_filter_updates_every_chart_and_table(
    session: Session, live: LiveApp, dropdown: str, option: str | None, param: str
) -> None:
    session.sign_in("ncl")
    scope = scope_of(live, "NCL")
    before = {
        name: session.page.inner_text(f"#{name}-summary")
        for name in ("overview-trust", "overview-age", "overview-place", "overview-trend")
    }
    chosen = choose(session, dropdown, option)
    assert f"{param}=" in session.page.url
    assert chosen.split(" (")[0] in session.page.inner_text("#filter-summary") or param in ("fy", "from", "to")
    filters = assert_headline_matches(session, live, scope)
    conn = open_readonly(live.settings.store_path)
    try:
        expected_ages = report.by_age_group(conn, scope, filters)
    finally:
        conn.close()
    after = {name: session.page.inner_text(f"#{name}-summary") for name in before}
    total = tiles(session)["Deaths in hospitals in this footprint"]
    assert sum(expected_ages["deaths"]) == total
    assert all(after[name] != before[name] for name in ("overview-age", "overview-place", "overview-trend")), (
        "every chart should redraw for the new filter"
    )


def callback_requests(session: Session) -> list[str]:
    """The changed inputs of every callback request the page sends from now on."""
    sent: list[str] = []

    def note(request: object) -> None:
        if "/_dash-update-component" in request.url:  # type: ignore[attr-defined]
            sent.append(",".join(request.post_data_json.get("changedPropIds", [])))  # type: ignore[attr-defined]

    session.page.on("request", note)
    return sent


def test_a_filter_change_is_one_request_and_writes_the_canonical_url(session: Session, live: LiveApp) -> None:
    """The bar writes the URL in the browser; only the page's callback goes to the server."""
    session.sign_in("ncl")
    sent = callback_requests(session)
    choose(session, "filter-years", "2023/24")
    choose(session, "filter-years", "2021/22")  # picked out of order: the URL still lists years ascending
    choose(session, "filter-place", "Neonatal intensive care unit (level 3)")
    assert sent == ["url.search"] * 3, sent
    assert urlparse(session.page.url).query == "fy=2021&fy=2023&place=nicu"
    assert "2021/22, 2023/24" in session.page.inner_text("#filter-summary")
    assert_headline_matches(session, live, scope_of(live, "NCL"))
    sent.clear()
    session.page.click("#filter-reset")
    session.page.wait_for_function("() => !location.search")
    session.settle()
    assert sent == ["url.search"], sent
    assert "2021/22" not in session.page.inner_text("#filter-years")  # the controls follow the URL
    assert_headline_matches(session, live, scope_of(live, "NCL"))


def test_reset_empties_the_bar_before_its_one_request(session: Session, live: LiveApp) -> None:
    """Reset empties the filter bar in the browser, so its one request carries the controls empty and
    the server's answer has nothing to set in the bar (when it did, the bar's callback ran once more
    after the charts were drawn)."""
    session.sign_in("ncl")
    choose(session, "filter-years", "2023/24")
    click_bar(session, "overview-age", 0)
    exchanges: list[tuple[dict, dict]] = []
    session.page.on(
        "requestfinished",
        lambda request: (
            exchanges.append((request.post_data_json, request.response().json()))
            if "/_dash-update-component" in request.url
            else None
        ),
    )
    session.page.click("#filter-reset")
    session.page.wait_for_function("() => !location.search")
    session.settle()
    assert [body["changedPropIds"] for body, _ in exchanges] == [["url.search"]]
    body, answer = exchanges[0]
    held = {f"{s['id']}.{s['property']}": s.get("value") for s in body["state"]}
    assert held["filter-years.value"] in ([], None) and held["filter-age.value"] in ([], None), held
    bar_values = {c for c, props in answer.get("sideUpdate", {}).items() if "value" in props}
    assert not bar_values, bar_values
    assert "2023/24" not in session.page.inner_text("#filter-years")
    assert "0-27 days" not in session.page.inner_text("#filter-age")
    assert_headline_matches(session, live, scope_of(live, "NCL"))


def test_clicking_a_bar_filters_every_view(session: Session, live: LiveApp) -> None:
    session.sign_in("ncl")
    sent = callback_requests(session)
    click_bar(session, "overview-age", 0)
    assert sent == ["url.search"], sent  # the click set the filter bar in the browser: one request, as a filter
    assert "age=0-27d" in session.page.url
    assert "0-27 days" in session.page.inner_text("#filter-age")  # the control shows the choice
    assert_headline_matches(session, live, scope_of(live, "NCL"))
    session.page.click("#nav-reviewing")
    session.page.wait_for_selector("#review-matrix .main-svg")
    session.settle()
    assert "age=0-27d" in session.page.url and "0-27 days" in session.page.inner_text("#filter-summary")


def test_a_forged_click_on_a_bar_changes_nothing(session: Session) -> None:
    """A click whose code is not among the control's options (here a trust outside NCL) is dropped in the
    browser; the server would clean it from the URL anyway."""
    session.sign_in("ncl")
    before = session.page.url
    sent = callback_requests(session)
    forged = {"points": [{"customdata": "RTH"}]}
    session.page.evaluate("click => window.dash_clientside.set_props('overview-trust', {clickData: click})", forged)
    session.page.wait_for_timeout(500)
    session.settle()
    assert session.page.url == before and sent == []
    click_bar(session, "overview-place", 0)  # a real one still works
    assert "place=" in session.page.url and "trust=" not in session.page.url
    session.page.click("#nav-reviewing")
    session.page.wait_for_selector("#review-by-cdop .main-svg")
    session.settle()
    click_bar(session, "review-by-cdop", last=True)  # the CDOP reviewing most of these deaths
    assert "reviewer=" in session.page.url and "place=" in session.page.url


def test_drill_from_trust_to_hospital_to_place_and_back(session: Session) -> None:
    session.sign_in("ncl")
    session.goto("/trusts", "#drill-chart .main-svg")
    click_bar(session, "drill-chart", last=True)  # the busiest trust is the top bar
    assert "trust=" in session.page.url and "by hospital" in session.page.inner_text("#drill-chart-title")
    trust_name = session.page.locator("#drill-crumbs li").nth(1).inner_text()
    click_bar(session, "drill-chart", last=True)
    assert "site=" in session.page.url and "place in hospital" in session.page.inner_text("#drill-chart-title")
    click_bar(session, "drill-chart", 0)
    assert "place=" in session.page.url and "age group" in session.page.inner_text("#drill-chart-title")
    assert len(session.page.locator("#drill-crumbs li").all()) == 4
    session.page.get_by_role("link", name=trust_name).click()  # back up to the trust
    session.page.wait_for_function("() => !location.search.includes('site=')")
    session.settle()
    assert "by hospital" in session.page.inner_text("#drill-chart-title")
    session.page.get_by_role("link", name="All trusts").click()
    session.page.wait_for_function("() => !location.search.includes('trust=')")
    session.settle()
    assert "by trust" in session.page.inner_text("#drill-chart-title")


def test_a_bookmarked_url_opens_the_same_view(session: Session, live: LiveApp) -> None:
    session.sign_in("ncl")
    session.goto("/?fy=2022&fy=2023&place=nicu&age=0-27d", "#overview-trust .main-svg")
    assert "2022/23" in session.page.inner_text("#filter-years") and "2023/24" in session.page.inner_text(
        "#filter-years"
    )
    summary = session.page.inner_text("#filter-summary")
    assert "2022/23 to 2023/24" in summary and "Neonatal intensive care unit" in summary and "0-27 days" in summary
    assert_headline_matches(session, live, scope_of(live, "NCL"))
    session.goto("/trends?grain=month&split=age_group", "#trend-chart .main-svg")
    assert session.page.get_attribute("#trend-grain-month", "aria-pressed") == "true"
    assert session.page.get_attribute("#trend-split-age-group", "aria-pressed") == "true"
    assert "by month, by age group" in session.page.inner_text("#trend-chart-title")


def read_download(session: Session, link: str) -> list[dict[str, str]]:
    with session.page.expect_download() as info:
        session.page.click(link)
    path = info.value.path()
    with open(path, newline="", encoding="utf-8") as handle:
        return list(csv.DictReader(handle))


def test_downloads_match_the_query_layer_and_stay_in_the_footprint(session: Session, live: LiveApp) -> None:
    session.sign_in("llr")
    scope = scope_of(live, "LLR")
    session.goto("/cases?fy=2024", ".ag-row")
    cases = read_download(session, "text=Download the case list (CSV)")
    conn = open_readonly(live.settings.store_path)
    try:
        filters = Filters(financial_years=(2024,))
        assert len(cases) == report.case_count(conn, scope, filters)
        ages = report.by_age_group(conn, scope, filters)
    finally:
        conn.close()
    assert {row["trust_name"] for row in cases} == {"University Hospitals of Leicester NHS Trust"}
    session.goto("/?fy=2024", "#overview-age .main-svg")
    by_age = read_download(session, "#overview-age-download")
    assert [(r["age_group"], int(r["deaths"])) for r in by_age] == list(ages.select("age_group", "deaths").iter_rows())


def reference_names() -> tuple[set[str], set[str]]:
    with (REFERENCE_DIR / "trusts.csv").open(encoding="utf-8") as handle:
        trusts = {row["trust_name"] for row in csv.DictReader(handle)}
    with (REFERENCE_DIR / "sites.csv").open(encoding="utf-8") as handle:
        sites = {row["site_name"] for row in csv.DictReader(handle) if row["country"] == "England"}
    return trusts, sites


def test_nothing_outside_the_footprint_appears_anywhere(session: Session, live: LiveApp) -> None:
    session.sign_in("llr")
    trusts, sites = reference_names()
    allowed_trusts = {"University Hospitals of Leicester NHS Trust"}
    allowed_sites = {"Leicester Royal Infirmary"}
    conn = open_readonly(live.settings.store_path)
    try:
        reviewers = set(report.by_reviewing_cdop(conn, scope_of(live, "LLR"), Filters())["reviewing_cdop_name"])
    finally:
        conn.close()
    for dropdown in ("filter-trust", "filter-site", "filter-reviewer"):
        session.page.click(f"#{dropdown}")
        session.page.get_by_role("option").first.wait_for()
        shown = set(session.page.get_by_role("option").all_inner_texts())
        session.page.keyboard.press("Escape")
        if dropdown == "filter-trust":
            assert shown == allowed_trusts
        elif dropdown == "filter-site":
            assert all(text.split(" (")[0] in allowed_sites for text in shown), shown
        else:
            assert shown <= reviewers | {"Not yet assigned"}, shown - reviewers
    for _, path, ready in PAGES:
        session.goto(path, ready)
        text = session.page.inner_text("body")
        svg_text = " ".join(session.page.locator("svg text").evaluate_all("els => els.map(e => e.textContent)"))
        for name in (trusts - allowed_trusts) | (sites - allowed_sites):
            assert name not in text and name not in svg_text, (path, name)


def test_signing_out_returns_to_the_login_page(session: Session) -> None:
    session.sign_in("llr")
    session.page.click("text=Sign out")
    session.page.wait_for_url(re.compile(r".*/login$"))
    session.page.goto(f"{session.base}/trends")
    assert "/login?next=" in session.page.url


def test_an_idle_session_expires(session: Session, live: LiveApp) -> None:
    session.sign_in("llr")
    engine = create_engine(live.settings.operational_url)
    long_ago = datetime.now(UTC).replace(tzinfo=None) - timedelta(minutes=31)
    with engine.begin() as db:  # as if the user had walked away for 31 minutes
        db.execute(update(sessions).where(sessions.c.ended_at.is_(None)).values(last_seen_at=long_ago))
    session.page.goto(f"{session.base}/reviewing")
    assert "/login" in session.page.url
    assert session.page.locator("#username").is_visible()


def test_an_admin_switches_footprint_and_sees_all_england(session: Session, live: LiveApp) -> None:
    session.sign_in("admin")
    assert_headline_matches(session, live, scope_of(live, None))
    screenshot(session.page, "admin-overview")
    choose(session, "footprint", "North Central London CDOP")
    assert "footprint=NCL" in session.page.url
    assert_headline_matches(session, live, scope_of(live, "NCL"))
    choose(session, "footprint", "All England")
    assert_headline_matches(session, live, scope_of(live, None))
    assert "Audit log" in session.page.inner_text("nav")


def test_the_navigation_carries_the_filters_and_opens_pages_in_place(session: Session) -> None:
    """assets/nav-links.js: a nav link opens its page without a full load and keeps the query; its href,
    once the pointer is over it, is the address with the query (a new tab or a copied link keeps the filters)."""
    session.sign_in("ncl")
    choose(session, "filter-years", "2023/24")
    query = urlparse(session.page.url).query
    assert query == "fy=2023"
    session.page.evaluate("() => { window.__sameDocument = true; }")
    session.page.hover("#nav-trusts")
    assert session.page.get_attribute("#nav-trusts", "href") == "/trusts?fy=2023"
    session.page.click("#nav-trusts")
    session.page.wait_for_selector("#drill-chart .main-svg")
    session.settle()
    assert urlparse(session.page.url).path == "/trusts" and urlparse(session.page.url).query == query
    assert session.page.evaluate("() => window.__sameDocument === true"), "the link reloaded the page"
    assert "2023/24" in session.page.inner_text("#filter-summary")
    assert "active" in (session.page.get_attribute("#nav-trusts", "class") or "")
    session.page.go_back()
    session.page.wait_for_function("() => location.pathname === '/'")
    session.page.wait_for_selector("#overview-age .main-svg")
    assert session.page.evaluate("() => window.__sameDocument === true")
    choose(session, "filter-years", "2022/23")  # the link follows the next change too
    session.page.hover("#nav-trusts")
    assert session.page.get_attribute("#nav-trusts", "href") == "/trusts?fy=2022&fy=2023"


def test_a_chart_waiting_long_for_its_answer_shows_a_spinner_only_after_400_ms(session: Session) -> None:
    """assets/style.css draws the spinner from Dash's own mark on the graph (there is no dcc.Loading)."""
    session.sign_in("ncl")
    spinner = """() => { const g = document.getElementById('overview-age');
        return [g.getAttribute('data-dash-is-loading'), getComputedStyle(g, '::after').visibility]; }"""
    cdp = session.page.context.new_cdp_session(session.page)
    cdp.send("Network.enable")
    slow = {"offline": False, "latency": 1500, "downloadThroughput": -1, "uploadThroughput": -1}
    cdp.send("Network.emulateNetworkConditions", slow)  # every answer now takes over a second and a half
    session.page.click("#filter-years")
    session.page.get_by_role("option").first.click()
    session.page.keyboard.press("Escape")
    session.page.wait_for_function("() => document.getElementById('overview-age').dataset.dashIsLoading === 'true'")
    early = session.page.evaluate(spinner)
    session.page.wait_for_timeout(700)
    late = session.page.evaluate(spinner)
    cdp.send("Network.emulateNetworkConditions", {**slow, "latency": 0})
    assert early == ["true", "hidden"], early  # not at once: most answers come well within 400 ms
    assert late == ["true", "visible"], late  # this one is late: say the chart is coming
    session.page.wait_for_function("() => !document.getElementById('overview-age').dataset.dashIsLoading")
    session.settle()
    assert session.page.evaluate(spinner)[0] is None


def test_every_chart_is_as_tall_as_its_figure_and_its_notes_sit_below_it(session: Session) -> None:
    """The cards' layout: a chart takes its figure's height (not its card's), and nothing it draws
    covers the summary and the CSV link under it."""
    session.sign_in("ncl")
    for path, ready in (("/", "#overview-trend .main-svg"), ("/reviewing", "#review-matrix .main-svg")):
        session.goto(path, ready)
        charts = session.page.evaluate(
            """() => [...document.querySelectorAll('.card .js-plotly-plot')].map(gd => {
                const card = gd.closest('.card'), notes = card.querySelector('.summary');
                const graph = gd.getBoundingClientRect();
                return [gd.closest('.dash-graph').id, gd._fullLayout.height, Math.round(graph.height),
                        notes ? Math.round(notes.getBoundingClientRect().top - graph.bottom) : null];
            })"""
        )
        assert charts, path
        for name, drawn, height, gap in charts:
            # every figure of the app is at least 220 px tall (figures._bar_height, figures.empty)
            assert height == drawn >= 220, (path, name, height, drawn)
            assert gap is not None and gap >= 0, (path, name, gap)

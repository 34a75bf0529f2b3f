"""Every way of counting gives the same numbers: several breakdowns at once
(side by side in one statement), each breakdown alone, and all England with
or without the trust test."""

from __future__ import annotations

import dataclasses

import polars as pl
import pytest
from polars.testing import assert_frame_equal

from dashboard.views.overview import BREAKDOWNS as OVERVIEW
from dashboard.views.reviewing import BREAKDOWNS as REVIEWING
from queries import report
from queries.filters import Filters
from queries.scope import cdop_scope, england_scope
from queries.store import use_store
from tests.conftest import TODAY

FILTERS = [
    Filters(),
    Filters(financial_years=(2023, 2024), places=("nicu", "lnu")),
    Filters(residence_groups=("england", "uk_other"), reviewing_cdops=("UNASSIGNED",)),
    Filters(age_groups=("0-27d",), review_statuses=("completed",)),
]


@pytest.mark.parametrize("breakdowns", [OVERVIEW, REVIEWING], ids=["overview", "reviewing"])
@pytest.mark.parametrize("filters", FILTERS)
@pytest.mark.parametrize("who", ["SEL", "england"])
def test_breakdowns_together_equal_each_alone(conn, who: str, filters: Filters, breakdowns: list) -> None:
    cursor = use_store(conn.cursor())
    scope = england_scope(cursor, TODAY) if who == "england" else cdop_scope(cursor, [who], TODAY)
    together = report.counts_many(cursor, scope, filters, breakdowns)
    for frame, by in zip(together, breakdowns, strict=True):
        alone = report.counts(cursor, scope, filters, by)
        assert_frame_equal(frame, alone.select(frame.columns), check_dtypes=False)  # column order is no contract


def test_all_england_skips_the_trust_test_only_when_it_changes_nothing(conn) -> None:
    cursor = use_store(conn.cursor())
    scope = england_scope(cursor, TODAY)
    assert scope.every_trust_in_store  # the demo's hospitals are all English trusts in a footprint
    tested = dataclasses.replace(scope, every_trust_in_store=False)
    assert "scope_trusts" not in report.counts_sql(scope, Filters(), ["trust"])[1]
    assert "scope_trusts" in report.counts_sql(tested, Filters(), ["trust"])[1]
    for by in (["trust", "review_group"], ["site", "residence_group"]):
        assert_frame_equal(report.counts(cursor, scope, Filters(), by), report.counts(cursor, tested, Filters(), by))


def test_a_footprint_scope_always_tests_its_trusts(conn) -> None:
    cursor = use_store(conn.cursor())
    scope = cdop_scope(cursor, ["SEL"], TODAY)
    assert not scope.every_trust_in_store
    frame = report.counts(cursor, scope, Filters(), ["trust"])
    assert set(frame["trust_code"]) <= set(scope.trust_codes)


def test_local_pairs_name_only_the_scopes_trusts(conn) -> None:
    cursor = use_store(conn.cursor())
    scope = cdop_scope(cursor, ["SEL"], TODAY)
    assert scope.local_pairs
    assert {pair.split("|")[1] for pair in scope.local_pairs} <= set(scope.trust_codes)
    assert any(pair.startswith("SEL|") for pair in scope.local_pairs)


def test_a_result_with_no_rows_keeps_its_columns_and_types(conn) -> None:
    cursor = use_store(conn.cursor())
    scope = cdop_scope(cursor, ["SEL"], TODAY)
    frame = report.counts(cursor, scope, Filters(financial_years=(1990,)), ["trust", "place"])
    assert frame.height == 0
    assert frame.schema["deaths"] == pl.Int64 and frame.schema["trust_code"] == pl.String


def test_the_residence_class_stored_at_load_follows_the_area_code(conn) -> None:
    from queries import codes

    def expected(la: str | None) -> str:
        if la and la.startswith("E"):
            return "england"
        if la in codes.RESIDENCE_OTHER_UK:
            return "uk_other"
        return "outside_uk" if la == codes.RESIDENCE_OUTSIDE_UK else "not_known"

    cursor = use_store(conn.cursor())
    pairs = cursor.execute("SELECT DISTINCT residence_la_code, residence_class FROM report_facts").fetchall()
    assert {cls for _, cls in pairs} >= {"england", "uk_other"}
    assert all(cls == expected(la) for la, cls in pairs)


def test_display_order_is_code_list_order_then_names_with_nulls_last(conn) -> None:
    """Rows are ordered in Python; polars' own sort by the same rules is the check."""
    cursor = use_store(conn.cursor())
    scope = england_scope(cursor, TODAY)
    for by in (["site", "reviewing_cdop"], ["place", "age_group", "trust"], ["review_status", "month"]):
        frame = report.counts(cursor, scope, Filters(), by)
        rules: list[pl.Expr] = []
        for dim in (report.DIMENSIONS[d] for d in by):
            if dim.order:
                rank = {code: i for i, code in enumerate(dim.order)}
                rules.append(pl.col(dim.keys[0]).replace_strict(rank, default=len(rank), return_dtype=pl.Int32))
            else:
                rules.extend(pl.col(key) for key in dim.keys)
        shuffled = frame.sample(fraction=1.0, shuffle=True, seed=7)
        assert frame.height > 20 and not shuffled.equals(frame)
        assert_frame_equal(frame, shuffled.sort(rules, nulls_last=True))
        rolled = report.rollup(shuffled, by[:1])
        assert_frame_equal(rolled, report.rollup(frame, by[:1]))


def test_names_looked_up_after_counting_are_the_names_the_facts_hold(conn) -> None:
    cursor = use_store(conn.cursor())
    facts = cursor.execute(
        """SELECT DISTINCT trust_code, trust_name, site_code, site_name,
                  coalesce(reviewing_cdop_code, 'UNASSIGNED'), coalesce(reviewing_cdop_name, 'Not yet assigned')
           FROM report_facts"""
    ).fetchall()
    trusts = {row[0]: row[1] for row in facts}
    sites = {row[2]: (row[3], row[0]) for row in facts}
    reviewers = {row[4]: row[5] for row in facts}
    assert "UNASSIGNED" in reviewers and len(sites) > 20
    for scope in (england_scope(cursor, TODAY), cdop_scope(cursor, ["LLR"], TODAY)):
        by_site, by_trust = report.counts_many(cursor, scope, Filters(), [["site", "reviewing_cdop"], ["trust"]])
        assert by_site.height > 0 and by_trust.height > 0
        for row in by_site.iter_rows(named=True):
            assert sites[row["site_code"]] == (row["site_name"], row["site_trust_code"])
            assert reviewers[row["reviewing_cdop_code"]] == row["reviewing_cdop_name"]
        assert all(trusts[code] == name for code, name in by_trust.select("trust_code", "trust_name").iter_rows())
        alone = report.counts(cursor, scope, Filters(), ["site", "reviewing_cdop"])  # reads the names itself
        assert_frame_equal(alone, by_site)


def test_names_are_read_only_when_a_dimension_has_them_and_none_were_given(conn) -> None:
    from bench.interactions import RecordingCursor

    log: list[tuple[str, object]] = []
    cursor = RecordingCursor(use_store(conn.cursor()), log)
    scope = cdop_scope(cursor, ["LLR"], TODAY)
    names = report.read_names(cursor)
    for by, given, statements in (
        (["month", "place"], None, 1),
        (["trust", "age_group"], None, 2),
        (["trust", "age_group"], names, 1),
    ):
        log.clear()
        report.counts(cursor, scope, Filters(), by, given)
        assert len(log) == statements, (by, given is not None)
    log.clear()
    report.by_period(cursor, scope, Filters(), "month", "place")  # the trends page
    assert len(log) == 1

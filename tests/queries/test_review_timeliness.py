"""Review timeliness, the England comparator and pooled windows, checked
against an independent recount in plain Python over the demo extract's rows
(the rows the demo store was built from), for one CDOP and for all England."""

from __future__ import annotations

import calendar
import statistics
from collections import Counter, defaultdict
from dataclasses import fields
from datetime import date

import duckdb
import polars as pl
import pytest

from ingest import synth_calibration
from queries import codes
from queries.filters import Filters
from queries.intervals import MIN_DENOMINATOR, wilson_interval
from queries.mapping import CdopPeriod, FootprintPeriod, Mapping
from queries.report import categories, comparator, shares, timeliness, windows
from queries.schema import review_band_sql
from queries.scope import Scope, cdop_scope, england_scope
from tests.conftest import TODAY
from tests.queries.test_queries import CDOPS, SITES, age_group, footprint_trusts, reference_rows, report_rows

# ---------------------------------------------------------------- plain Python
# The definitions of queries/report/timeliness.py, written again without SQL.

Row = dict[str, str]


def months_after(day: date, months: int) -> date:
    """The same day of the month ``months`` on, or that month's last day."""
    year, month = day.year + (day.month - 1 + months) // 12, (day.month - 1 + months) % 12 + 1
    return date(year, month, min(day.day, calendar.monthrange(year, month)[1]))


def band(died: date, end: date) -> str:
    if end <= months_after(died, 6):
        return "within_6m"
    if end <= months_after(died, 12):
        return "6_to_12m"
    return "over_12m"


def died(r: Row) -> date:
    return date.fromisoformat(r["date_of_death"])


def completed_on(r: Row) -> date:
    return date.fromisoformat(r["review_completed_date"])


def is_open(r: Row) -> bool:
    return r["review_status"] in ("notified", "under_review")


def group_of(r: Row, by: str | None) -> str:
    if by == "financial_year":
        return str(codes.financial_year_of(died(r)))
    if by == "reviewing_cdop":
        return r["reviewing_cdop_code"] or codes.UNASSIGNED
    return "all"


def recount_bands(rows: list[Row], by: str | None, end) -> dict[tuple[str, str], int]:
    return dict(Counter((group_of(r, by), band(died(r), end(r))) for r in rows))


def quartiles(days: list[int]) -> tuple[float, float, float]:
    if len(days) == 1:
        return float(days[0]), float(days[0]), float(days[0])
    q1, median, q3 = statistics.quantiles(days, n=4, method="inclusive")
    return q1, median, q3


def recount_summary(rows: list[Row], as_at: date) -> dict[str, int]:
    done = [r for r in rows if r["review_status"] == "completed"]
    still_open = [r for r in rows if is_open(r)]
    return {
        "deaths": len(rows),
        "completed": len(done),
        "within_6m": sum(band(died(r), completed_on(r)) == "within_6m" for r in done),
        "within_12m": sum(band(died(r), completed_on(r)) != "over_12m" for r in done),
        "open": len(still_open),
        "open_over_12m": sum(band(died(r), as_at) == "over_12m" for r in still_open),
    }


def all_english_trusts() -> set[str]:
    return {s["trust_code"] for s in SITES.values() if s["country"] == "England"}


AS_AT = synth_calibration.AS_AT


@pytest.fixture(scope="module")
def scopes(demo_settings) -> dict[str, Scope]:
    from queries.store import open_readonly

    conn = open_readonly(demo_settings.store_path)
    try:
        return {"LLR": cdop_scope(conn, ["LLR"], TODAY), "ENGLAND": england_scope(conn, TODAY)}
    finally:
        conn.close()


def rows_of(extract: pl.DataFrame, scope: Scope) -> list[Row]:
    return report_rows(extract, set(scope.trust_codes))


def check_banded(frame: pl.DataFrame, expected: dict[tuple[str, str], int]) -> None:
    """Every group has all three bands; counts, totals, shares and intervals agree with the recount."""
    groups = {g for g, _ in expected}
    assert set(frame["group"]) == groups
    assert frame.height == 3 * len(groups)
    for row in frame.iter_rows(named=True):
        count = expected.get((row["group"], row["band"]), 0)
        total = sum(expected.get((row["group"], b), 0) for b in timeliness.BANDS)
        assert (row["reviews"], row["total"]) == (count, total), row
        if total < MIN_DENOMINATOR:
            assert row["share"] is None and row["low"] is None and row["high"] is None
        else:
            assert row["share"] == pytest.approx(count / total)
            assert (row["low"], row["high"]) == wilson_interval(count, total)


# ---------------------------------------------------------------- the month rule


@pytest.mark.parametrize(
    ("death", "end", "expected"),
    [
        (date(2024, 1, 15), date(2024, 7, 15), "within_6m"),  # the day six months on is within
        (date(2024, 1, 15), date(2024, 7, 16), "6_to_12m"),
        (date(2023, 8, 31), date(2024, 2, 29), "within_6m"),  # no 31 February: its last day (leap year)
        (date(2024, 8, 31), date(2025, 2, 28), "within_6m"),
        (date(2024, 8, 31), date(2025, 3, 1), "6_to_12m"),
        (date(2024, 2, 29), date(2025, 2, 28), "6_to_12m"),  # twelve months on from 29 February
        (date(2024, 2, 29), date(2025, 3, 1), "over_12m"),
        (date(2024, 5, 1), date(2024, 5, 1), "within_6m"),
    ],
)
def test_the_sql_bands_follow_the_documented_month_rule(death: date, end: date, expected: str) -> None:
    assert band(death, end) == expected  # the recount's reading of the rule
    found = duckdb.sql(
        f"SELECT {review_band_sql('e')} FROM (SELECT $d AS date_of_death, $e AS e)", params={"d": death, "e": end}
    )
    assert found.fetchall() == [(expected,)]


# ---------------------------------------------------------------- tables against the recount


@pytest.mark.parametrize("who", ["LLR", "ENGLAND"])
@pytest.mark.parametrize("by", ["financial_year", "reviewing_cdop", None])
def test_completed_reviews_by_band_agree_with_a_recount(
    conn, scopes: dict[str, Scope], demo_extract: pl.DataFrame, who: str, by: str | None
) -> None:
    done = [r for r in rows_of(demo_extract, scopes[who]) if r["review_status"] == "completed"]
    assert len(done) > 50, "the demo store should hold completed reviews here"
    expected = recount_bands(done, by, completed_on)
    assert len({b for _, b in expected}) == 3, "every band should occur in the demo data"
    check_banded(timeliness.completed_bands(conn, scopes[who], Filters(), by), expected)


@pytest.mark.parametrize("who", ["LLR", "ENGLAND"])
def test_open_reviews_are_aged_to_the_as_at_date_as_a_recount_says(
    conn, scopes: dict[str, Scope], demo_extract: pl.DataFrame, who: str
) -> None:
    assert timeliness.as_at_date(conn) == AS_AT
    still_open = [r for r in rows_of(demo_extract, scopes[who]) if is_open(r)]
    assert still_open
    for by in ("financial_year", None):
        expected = recount_bands(still_open, by, lambda _r: AS_AT)
        check_banded(timeliness.open_bands(conn, scopes[who], Filters(), by), expected)
    # another as-at date ages the same reviews differently
    later = date(2027, 6, 30)
    check_banded(
        timeliness.open_bands(conn, scopes[who], Filters(), None, as_at=later),
        recount_bands(still_open, None, lambda _r: later),
    )


@pytest.mark.parametrize("who", ["LLR", "ENGLAND"])
def test_median_days_and_quartiles_agree_with_a_recount(
    conn, scopes: dict[str, Scope], demo_extract: pl.DataFrame, who: str
) -> None:
    done = [r for r in rows_of(demo_extract, scopes[who]) if r["review_status"] == "completed"]
    for by in ("financial_year", "reviewing_cdop", None):
        days: dict[str, list[int]] = defaultdict(list)
        for r in done:
            days[group_of(r, by)].append((completed_on(r) - died(r)).days)
        frame = timeliness.completion_days(conn, scopes[who], Filters(), by)
        assert set(frame["group"]) == set(days)
        for row in frame.iter_rows(named=True):
            q1, median, q3 = quartiles(days[row["group"]])
            assert row["reviews"] == len(days[row["group"]])
            assert (row["q1_days"], row["median_days"], row["q3_days"]) == pytest.approx((q1, median, q3))


def test_groups_are_labelled(conn, scopes: dict[str, Scope]) -> None:
    years = timeliness.completed_bands(conn, scopes["LLR"], Filters(), "financial_year")
    assert set(years.select("group", "label").iter_rows()) == {
        (g, codes.financial_year_label(int(g))) for g in years["group"]
    }
    reviewers = dict(
        timeliness.completion_days(conn, scopes["LLR"], Filters(), "reviewing_cdop")
        .select("group", "label")
        .iter_rows()
    )
    assert reviewers["LLR"] == "Leicester, Leicestershire and Rutland CDOP"
    with pytest.raises(ValueError):
        timeliness.completed_bands(conn, scopes["LLR"], Filters(), "trust_code")


@pytest.mark.parametrize("who", ["LLR", "ENGLAND"])
def test_the_summary_agrees_with_a_recount_under_filters(
    conn, scopes: dict[str, Scope], demo_extract: pl.DataFrame, who: str
) -> None:
    rows = rows_of(demo_extract, scopes[who])
    infants = [r for r in rows if age_group(int(r["age_at_death_days"]), died(r)) in ("0-27d", "28-364d")]
    assert timeliness.summary(conn, scopes[who], Filters()) == recount_summary(rows, AS_AT)
    infant_filter = Filters(age_groups=("0-27d", "28-364d"))
    assert timeliness.summary(conn, scopes[who], infant_filter) == recount_summary(infants, AS_AT)


# ---------------------------------------------------------------- scope


def test_a_cdops_timeliness_counts_only_deaths_in_its_footprints_hospitals(
    conn, scopes: dict[str, Scope], demo_extract: pl.DataFrame
) -> None:
    llr = scopes["LLR"]
    inside = [
        r for r in rows_of(demo_extract, scopes["ENGLAND"]) if SITES[r["site_code"]]["trust_code"] in llr.trust_codes
    ]
    assert timeliness.summary(conn, llr, Filters()) == recount_summary(inside, AS_AT)
    # reviews done by LLR of deaths in other hospitals are not LLR's hospitals' deaths
    elsewhere = [
        r
        for r in rows_of(demo_extract, scopes["ENGLAND"])
        if r["reviewing_cdop_code"] == "LLR" and SITES[r["site_code"]]["trust_code"] not in llr.trust_codes
    ]
    assert elsewhere, "the demo data should hold LLR reviews of deaths outside its hospitals"
    total = timeliness.completed_bands(conn, llr, Filters(), None)["reviews"].sum()
    assert total == sum(r["review_status"] == "completed" for r in inside)
    # a forged filter naming another footprint's trust finds nothing, never that trust's deaths
    other_trust = next(SITES[r["site_code"]]["trust_code"] for r in elsewhere)
    forged = Filters(trust_codes=(other_trust,))
    assert timeliness.completed_bands(conn, llr, forged, "financial_year").height == 0
    assert timeliness.summary(conn, llr, forged)["deaths"] == 0


# ---------------------------------------------------------------- England comparator


def test_the_comparator_drops_exactly_the_filters_that_name_a_trust_hospital_cdop_or_area() -> None:
    full = Filters(
        financial_years=(2023,),
        date_from=date(2023, 5, 1),
        date_to=date(2024, 2, 1),
        trust_codes=("RWE",),
        site_codes=("RWE01",),
        places=("nicu",),
        age_groups=("0-27d",),
        reviewing_cdops=("LLR", codes.UNASSIGNED),
        residence_groups=("footprint",),
        review_statuses=("completed",),
        residence_areas=("E06000016",),
    )
    stripped = comparator.england_filters(full)
    dropped = {"trust_codes", "site_codes", "reviewing_cdops", "residence_groups", "residence_areas"}
    for field in fields(Filters):
        if field.name in dropped:
            assert getattr(stripped, field.name) == (), field.name
        else:
            assert getattr(stripped, field.name) == getattr(full, field.name), field.name


def test_the_comparison_puts_englands_totals_beside_the_footprint(
    conn, scopes: dict[str, Scope], demo_extract: pl.DataFrame
) -> None:
    llr = scopes["LLR"]
    mine = rows_of(demo_extract, llr)
    everyone = rows_of(demo_extract, scopes["ENGLAND"])
    trust = llr.trust_codes[0]
    filters = Filters(places=("nicu", "lnu", "scu"), trust_codes=(trust,), reviewing_cdops=("LLR",))
    local = recount_summary(
        [r for r in mine if r["place_in_hospital"] in ("nicu", "lnu", "scu") and r["reviewing_cdop_code"] == "LLR"],
        AS_AT,
    )
    england = recount_summary([r for r in everyone if r["place_in_hospital"] in ("nicu", "lnu", "scu")], AS_AT)
    assert england["completed"] > 10 * local["completed"] > 0

    frame = comparator.comparison(conn, llr, filters)
    assert frame["measure"].to_list() == list(timeliness.SUMMARY_SHARES)
    for row in frame.iter_rows(named=True):
        denominator = timeliness.SUMMARY_SHARES[row["measure"]][1]
        assert (row["count"], row["total"]) == (local[row["measure"]], local[denominator])
        assert (row["england_count"], row["england_total"]) == (england[row["measure"]], england[denominator])
        assert row["england_share"] == pytest.approx(england[row["measure"]] / england[denominator])
        if row["total"] >= MIN_DENOMINATOR:
            low, high = wilson_interval(row["count"], row["total"])  # type: ignore[misc]
            assert (row["low"], row["high"]) == (low, high)
            expected = (
                "higher than England"
                if row["england_share"] < low
                else "lower than England"
                if row["england_share"] > high
                else "similar"
            )
            assert row["marker"] == expected
        else:
            assert row["share"] is None and row["marker"] is None


def test_englands_side_is_the_same_whoever_asks_and_holds_only_england_totals(conn, scopes: dict[str, Scope]) -> None:
    filters = Filters(age_groups=("1-4y", "5-9y"))
    from_llr = comparator.comparison(conn, scopes["LLR"], filters)
    from_england = comparator.comparison(conn, scopes["ENGLAND"], filters)
    england_columns = ["measure", "england_count", "england_total", "england_share"]
    assert from_llr.select(england_columns).equals(from_england.select(england_columns))
    # for all England, the footprint is England itself
    assert from_england["count"].to_list() == from_england["england_count"].to_list()
    # one row per measure: nothing is broken down by trust, hospital or CDOP
    assert from_llr.height == len(timeliness.SUMMARY_SHARES)
    assert not {"trust_code", "site_code", "reviewing_cdop_code", "group"} & set(from_llr.columns)


# ---------------------------------------------------------------- pooled windows


def test_windows_are_whole_financial_years_ending_at_the_chosen_one() -> None:
    assert windows.window(2024, 1) == (2024,)
    assert windows.window(2024, 3) == (2022, 2023, 2024)
    assert windows.previous_window(2024, 3) == (2019, 2020, 2021)
    assert windows.previous_window(2024, 5) == (2015, 2016, 2017, 2018, 2019)
    with pytest.raises(ValueError):
        windows.window(2024, 2)


@pytest.mark.parametrize("who", ["LLR", "ENGLAND"])
@pytest.mark.parametrize("length", [1, 3])
def test_pooled_windows_agree_with_a_recount(
    conn, scopes: dict[str, Scope], demo_extract: pl.DataFrame, who: str, length: int
) -> None:
    rows = rows_of(demo_extract, scopes[who])
    end = 2024 if length == 1 else 2025

    def in_years(years: tuple[int, ...]) -> list[Row]:
        return [r for r in rows if codes.financial_year_of(died(r)) in years]

    now = recount_summary(in_years(windows.window(end, length)), AS_AT)
    before = recount_summary(in_years(windows.previous_window(end, length)), AS_AT)
    assert now["deaths"] and before["deaths"]
    # a financial-year filter gives way to the window
    frame = windows.pooled(conn, scopes[who], Filters(financial_years=(2019,)), end, length)
    assert frame["measure"].to_list() == list(timeliness.SUMMARY_LABELS)
    for row in frame.iter_rows(named=True):
        m = row["measure"]
        assert (row["current"], row["previous"], row["change"]) == (now[m], before[m], now[m] - before[m])
        if m in timeliness.SUMMARY_SHARES:
            d = timeliness.SUMMARY_SHARES[m][1]
            for share, counts in ((row["current_share"], now), (row["previous_share"], before)):
                if counts[d] < MIN_DENOMINATOR:
                    assert share is None
                else:
                    assert share == pytest.approx(counts[m] / counts[d])
        else:
            assert row["current_share"] is None and row["previous_share"] is None


# ---------------------------------------------------------------- categories and expected deaths


@pytest.mark.parametrize("who", ["LLR", "ENGLAND"])
def test_categories_of_death_of_a_window_agree_with_a_recount(
    conn, scopes: dict[str, Scope], demo_extract: pl.DataFrame, who: str
) -> None:
    years = windows.window(2023, 3)

    def done_in_window(rows: list[Row]) -> list[Row]:
        return [r for r in rows if r["review_status"] == "completed" and codes.financial_year_of(died(r)) in years]

    # a trust filter narrows the footprint's side only
    trust = scopes[who].trust_codes[0] if who == "LLR" else None
    mine = done_in_window(rows_of(demo_extract, scopes[who]))
    if trust:
        mine = [r for r in mine if SITES[r["site_code"]]["trust_code"] == trust]
    everyone = done_in_window(rows_of(demo_extract, scopes["ENGLAND"]))
    local, england = (
        Counter(int(r["category_of_death"]) for r in mine),
        Counter(int(r["category_of_death"]) for r in everyone),
    )
    filters = windows.in_window(Filters(trust_codes=(trust,) if trust else ()), 2023, 3)
    frame = categories.categories_of_death(conn, scopes[who], filters)
    assert frame["measure"].to_list() == [str(c) for c in codes.CATEGORIES_OF_DEATH]
    assert frame["label"].to_list() == list(codes.CATEGORIES_OF_DEATH.values())
    for row in frame.iter_rows(named=True):
        category = int(row["measure"])
        assert (row["count"], row["total"]) == (local[category], len(mine))
        assert (row["england_count"], row["england_total"]) == (england[category], len(everyone))
    assert sum(frame["count"]) == len(mine) > 0


def test_expected_and_unexpected_deaths_agree_with_a_recount(
    conn, scopes: dict[str, Scope], demo_extract: pl.DataFrame
) -> None:
    mine = Counter(r["expected_death"] for r in rows_of(demo_extract, scopes["LLR"]))
    everyone = Counter(r["expected_death"] for r in rows_of(demo_extract, scopes["ENGLAND"]))
    frame = categories.expected_deaths(conn, scopes["LLR"], Filters())
    assert frame["measure"].to_list() == list(codes.EXPECTED_DEATH)
    for row in frame.iter_rows(named=True):
        assert (row["count"], row["total"]) == (mine[row["measure"]], mine.total())
        assert (row["england_count"], row["england_total"]) == (everyone[row["measure"]], everyone.total())


# ---------------------------------------------------------------- the pages' shares with England beside

CDOP_LAS = {c["cdop_code"]: set(c["la_codes"].split(";")) for c in reference_rows("cdops.csv")}


def holders_of(trust: str, on: date) -> set[str]:
    """CDOPs whose footprint holds ``trust`` on ``on``, from the reference CSV."""
    return {code for code in CDOPS if trust in footprint_trusts(code, on)}


def became(code: str) -> set[str]:
    """``code`` and every CDOP it became by mergers or changes of code (reference CSV)."""
    chain = set()
    while code and code not in chain:
        chain.add(code)
        code = CDOPS[code]["successor_code"] if code in CDOPS else ""
    return chain


def recount_shares(rows: list[Row], scope: Scope, by_hospital: bool) -> dict[str, int]:
    local_reviewers = {"LLR"} if not by_hospital else None

    def resident(r: Row) -> bool:
        if not by_hospital:
            return r["residence_la_code"] in scope.la_codes
        trust = SITES[r["site_code"]]["trust_code"]
        return any(r["residence_la_code"] in CDOP_LAS[c] for c in holders_of(trust, TODAY))

    def known(r: Row) -> bool:
        return bool(r["residence_la_code"]) and r["residence_la_code"] != codes.RESIDENCE_NOT_KNOWN

    def reviewed_here(r: Row) -> bool:
        if local_reviewers is not None:
            return r["reviewing_cdop_code"] in local_reviewers
        return bool(became(r["reviewing_cdop_code"]) & holders_of(SITES[r["site_code"]]["trust_code"], TODAY))

    return {
        "deaths": len(rows),
        "neonatal_unit": sum(r["place_in_hospital"] in ("nicu", "lnu", "scu") for r in rows),
        "picu": sum(r["place_in_hospital"] == "picu" for r in rows),
        "ed": sum(r["place_in_hospital"] == "ed" for r in rows),
        "non_residents": sum(known(r) and not resident(r) for r in rows),
        "reviewed_elsewhere": sum(bool(r["reviewing_cdop_code"]) and not reviewed_here(r) for r in rows),
        "unassigned": sum(not r["reviewing_cdop_code"] for r in rows),
    }


def test_the_hospital_shares_put_englands_beside_the_footprints_as_a_recount_says(
    conn, scopes: dict[str, Scope], demo_extract: pl.DataFrame
) -> None:
    llr, england = scopes["LLR"], scopes["ENGLAND"]
    filters = Filters(reviewing_cdops=("LLR", codes.UNASSIGNED), age_groups=("0-27d", "28-364d", "1-4y"))
    young = ("0-27d", "28-364d", "1-4y")

    def is_young(r: Row) -> bool:
        return age_group(int(r["age_at_death_days"]), died(r)) in young

    mine = [r for r in rows_of(demo_extract, llr) if is_young(r) and r["reviewing_cdop_code"] in ("LLR", None)]
    everyone = [r for r in rows_of(demo_extract, england) if is_young(r)]  # the reviewer filter names a CDOP: dropped
    local, national = recount_shares(mine, llr, by_hospital=False), recount_shares(everyone, england, by_hospital=True)
    assert local["non_residents"] and national["non_residents"] and national["reviewed_elsewhere"]

    frame = shares.hospital_shares(conn, llr, filters)
    assert frame["measure"].to_list() == list(shares.SHARES)
    for row in frame.iter_rows(named=True):
        assert (row["count"], row["total"]) == (local[row["measure"]], local["deaths"]), row
        assert (row["england_count"], row["england_total"]) == (national[row["measure"]], national["deaths"]), row
    # all England's own view: both sides ask the hospital's question, and agree without filters
    whole = shares.hospital_shares(conn, england, Filters())
    assert whole["count"].to_list() == whole["england_count"].to_list()
    assert whole["total"].to_list() == whole["england_total"].to_list()
    everything = recount_shares(rows_of(demo_extract, england), england, by_hospital=True)
    assert whole["count"].to_list() == [everything[m] for m in shares.SHARES]


def test_an_empty_view_gives_zeros_and_no_shares_and_a_forged_trust_tells_nothing_of_it(
    conn, scopes: dict[str, Scope], demo_extract: pl.DataFrame
) -> None:
    llr = scopes["LLR"]
    outside = next(
        SITES[r["site_code"]]["trust_code"]
        for r in rows_of(demo_extract, scopes["ENGLAND"])
        if SITES[r["site_code"]]["trust_code"] not in llr.trust_codes
    )
    forged = Filters(trust_codes=(outside,))
    assert timeliness.completion_days(conn, llr, forged, "financial_year").height == 0
    assert timeliness.open_bands(conn, llr, forged).height == 0
    assert set(timeliness.summary(conn, llr, forged).values()) == {0}
    for frame in (
        comparator.comparison(conn, llr, forged),
        shares.hospital_shares(conn, llr, forged),
        categories.categories_of_death(conn, llr, forged),
    ):
        assert set(frame["count"]) == {0} and set(frame["total"]) == {0}
        assert frame["share"].null_count() == frame.height and frame["marker"].null_count() == frame.height
    # England's side ignores the forged trust: it is England's whole total, the same as with no filter
    england_columns = ["measure", "england_count", "england_total"]
    assert (
        comparator.comparison(conn, llr, forged)
        .select(england_columns)
        .equals(comparator.comparison(conn, llr, Filters()).select(england_columns))
    )
    pooled = windows.pooled(conn, llr, forged, 2024, 1)
    assert set(pooled["current"]) == {0} and pooled["current_share"].null_count() == pooled.height


def test_resident_pairs_pair_each_trust_with_the_areas_of_the_cdops_holding_it_that_day() -> None:
    start, split = date(2020, 4, 1), date(2024, 4, 1)
    mapping = Mapping(
        cdops=(
            CdopPeriod("AA", "A", None, ("E1", "E2"), start, None),
            CdopPeriod("BB", "B", None, ("E3",), start, split, successor="CC"),
            CdopPeriod("CC", "C", None, ("E3", "E4"), split, None),
        ),
        footprint=(
            FootprintPeriod("T1", "AA", start, None),
            FootprintPeriod("T2", "AA", start, None),  # a trust in two footprints
            FootprintPeriod("T2", "BB", start, split),
            FootprintPeriod("T2", "CC", split, None),
            FootprintPeriod("T3", "CC", split, None),
        ),
    )
    assert mapping.resident_pairs(("T1", "T2", "T3"), date(2023, 1, 1)) == ("E1|T1", "E1|T2", "E2|T1", "E2|T2", "E3|T2")
    assert mapping.resident_pairs(("T2", "T3"), date(2025, 1, 1)) == (
        "E1|T2",
        "E2|T2",
        "E3|T2",
        "E3|T3",
        "E4|T2",
        "E4|T3",
    )
    assert mapping.resident_pairs(("T9",), date(2025, 1, 1)) == ()

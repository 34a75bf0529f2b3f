"""The scoped query layer: scope, the report rule, and counts checked by hand."""

from __future__ import annotations

import csv
from collections import Counter
from datetime import date, timedelta

import duckdb
import polars as pl
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from queries import codes, report
from queries.filters import Filters
from queries.scope import Scope, UnknownCdop, cdop_scope, cdops_in_force, england_scope
from settings import REFERENCE_DIR
from tests.conftest import TODAY

# ---------------------------------------------------------------- plain Python
# An independent reading of the reference CSVs and the extract, with no polars
# or SQL, to check the query layer against.


def reference_rows(name: str) -> list[dict[str, str]]:
    with (REFERENCE_DIR / name).open(newline="", encoding="utf-8") as handle:
        return list(csv.DictReader(handle))


SITES = {s["site_code"]: s for s in reference_rows("sites.csv")}
FOOTPRINT = reference_rows("footprint.csv")
CDOPS = {c["cdop_code"]: c for c in reference_rows("cdops.csv")}


def footprint_trusts(cdop: str, on: date) -> set[str]:
    return {
        r["trust_code"]
        for r in FOOTPRINT
        if r["cdop_code"] == cdop
        and r["valid_from"] <= on.isoformat()
        and (not r["valid_to"] or on.isoformat() < r["valid_to"])
    }


def age_group(days: int, died: date) -> str:
    born = died - timedelta(days=days)
    years = died.year - born.year - ((died.month, died.day) < (born.month, born.day))
    if years == 0:
        return "0-27d" if days < 28 else "28-364d"
    return next(g for g, top in (("1-4y", 4), ("5-9y", 9), ("10-14y", 14), ("15-17y", 17)) if years <= top)


def report_rows(extract: pl.DataFrame, trusts: set[str]) -> list[dict[str, str]]:
    """The report rule, by hand: hospital deaths at English sites of these trusts."""
    out = []
    for r in extract.iter_rows(named=True):
        site = SITES.get(r["site_code"] or "")
        if (
            r["place_of_death_type"] == "hospital"
            and site
            and site["country"] == "England"
            and site["trust_code"] in trusts
        ):
            out.append(r)
    return out


@pytest.fixture(scope="module")
def scopes(demo_settings) -> dict[str, Scope]:
    from queries.store import open_readonly

    conn = open_readonly(demo_settings.store_path)
    try:
        result = {code: cdop_scope(conn, [code], TODAY) for code, _ in cdops_in_force(conn, TODAY)}
        result["ENGLAND"] = england_scope(conn, TODAY)
    finally:
        conn.close()
    return result


# ---------------------------------------------------------------- scope


def test_a_cdop_scope_is_its_footprint_today(conn: duckdb.DuckDBPyConnection) -> None:
    llr = cdop_scope(conn, ["LLR"], TODAY)
    assert llr.trust_codes == ("RWE",)
    assert set(llr.la_codes) == {"E06000016", "E10000018", "E06000017"}
    assert llr.label == "Leicester, Leicestershire and Rutland CDOP"


def test_a_merged_cdop_sees_the_whole_history_of_its_current_footprint(conn: duckdb.DuckDBPyConnection) -> None:
    merged = cdop_scope(conn, ["CANDM"], TODAY)
    assert set(merged.trust_codes) == footprint_trusts("MERS", date(2024, 1, 1)) | footprint_trusts(
        "CHES", date(2024, 1, 1)
    )
    assert cdop_scope(conn, ["MERS"], TODAY) == merged  # an old code follows its successor
    before = cdop_scope(conn, ["MERS"], date(2024, 1, 1))
    assert set(before.trust_codes) == footprint_trusts("MERS", date(2024, 1, 1))
    years = report.counts(conn, merged, Filters(), ["financial_year"])["financial_year"].to_list()
    assert min(years) == 2019  # deaths from before the merger are in view


def test_unknown_cdops_are_refused(conn: duckdb.DuckDBPyConnection) -> None:
    with pytest.raises(UnknownCdop):
        cdop_scope(conn, ["NOPE"], TODAY)
    with pytest.raises(UnknownCdop):
        cdop_scope(conn, [], TODAY)


def test_a_user_holding_two_cdops_sees_both_footprints(conn: duckdb.DuckDBPyConnection) -> None:
    both = cdop_scope(conn, ["LLR", "NHAM"], TODAY)
    assert set(both.trust_codes) == footprint_trusts("LLR", TODAY) | footprint_trusts("NHAM", TODAY)
    assert both.key != cdop_scope(conn, ["LLR"], TODAY).key


# ---------------------------------------------------------------- the report rule


def test_the_report_counts_only_hospital_deaths_at_english_sites(
    conn: duckdb.DuckDBPyConnection, scopes: dict[str, Scope], demo_extract: pl.DataFrame
) -> None:
    england = scopes["ENGLAND"]
    expected = report_rows(demo_extract, set(england.trust_codes))
    assert report.headline(conn, england, Filters())["deaths"][0] == len(expected)
    kinds = Counter(r["place_of_death_type"] for r in demo_extract.iter_rows(named=True))
    assert kinds["home"] > 0 and kinds["hospice"] > 0  # there were deaths to exclude
    welsh = [
        r for r in demo_extract.iter_rows(named=True) if SITES.get(r["site_code"] or "", {}).get("country") == "Wales"
    ]
    assert welsh, "the demo data should hold deaths in Welsh hospitals, which the report excludes"
    shown = set(report.by_site(conn, england, Filters())["site_code"])
    assert not shown & {r["site_code"] for r in welsh}


# ---------------------------------------------------------------- counts by hand


@pytest.mark.parametrize("cdop", ["LLR", "CANDM", "NCL", "KMED", "SHEF", "WOE", "ENGLAND"])
def test_counts_agree_with_a_recount_in_plain_python(
    conn: duckdb.DuckDBPyConnection, scopes: dict[str, Scope], demo_extract: pl.DataFrame, cdop: str
) -> None:
    scope = scopes[cdop]
    rows = report_rows(demo_extract, set(scope.trust_codes))
    assert rows, f"{cdop} should have deaths in the demo store"
    trust_of = {code: s["trust_code"] for code, s in SITES.items()}

    by_trust = dict(report.by_trust(conn, scope, Filters()).select("trust_code", "deaths").iter_rows())
    assert by_trust == Counter(trust_of[r["site_code"]] for r in rows)
    by_site = dict(report.by_site(conn, scope, Filters()).select("site_code", "deaths").iter_rows())
    assert by_site == Counter(r["site_code"] for r in rows)
    by_place = dict(report.by_place(conn, scope, Filters()).select("place", "deaths").iter_rows())
    assert by_place == Counter(r["place_in_hospital"] or "not_known" for r in rows)
    by_age = dict(report.by_age_group(conn, scope, Filters()).select("age_group", "deaths").iter_rows())
    assert by_age == Counter(
        age_group(int(r["age_at_death_days"]), date.fromisoformat(r["date_of_death"])) for r in rows
    )
    by_reviewer = dict(
        report.by_reviewing_cdop(conn, scope, Filters()).select("reviewing_cdop_code", "deaths").iter_rows()
    )
    assert by_reviewer == Counter(r["reviewing_cdop_code"] or codes.UNASSIGNED for r in rows)

    head = report.headline(conn, scope, Filters()).row(0, named=True)
    residents = sum(1 for r in rows if r["residence_la_code"] in scope.la_codes)
    assert head["residents"] == residents
    assert head["non_residents"] + head["residence_not_known"] == len(rows) - residents
    assert head["not_yet_assigned"] == sum(1 for r in rows if not r["reviewing_cdop_code"])
    assert head["reviewed_by_local_cdop"] + head["reviewed_by_another_cdop"] + head["not_yet_assigned"] == len(rows)


def test_reviewed_locally_means_by_a_cdop_whose_footprint_holds_the_hospital(
    conn: duckdb.DuckDBPyConnection, scopes: dict[str, Scope], demo_extract: pl.DataFrame
) -> None:
    scope = scopes["CANDM"]
    rows = report_rows(demo_extract, set(scope.trust_codes))
    local = {"MERS", "CHES", "CANDM"}  # the merged CDOP and its predecessors
    expected = sum(1 for r in rows if r["reviewing_cdop_code"] in local)
    assert report.headline(conn, scope, Filters())["reviewed_by_local_cdop"][0] == expected


def test_filters_narrow_as_a_recount_says(
    conn: duckdb.DuckDBPyConnection, scopes: dict[str, Scope], demo_extract: pl.DataFrame
) -> None:
    scope = scopes["ENGLAND"]
    rows = report_rows(demo_extract, set(scope.trust_codes))

    def fy(r: dict[str, str]) -> int:
        return codes.financial_year_of(date.fromisoformat(r["date_of_death"]))

    cases = {
        Filters(financial_years=(2023,)): [r for r in rows if fy(r) == 2023],
        Filters(places=("picu", "nicu")): [r for r in rows if r["place_in_hospital"] in ("picu", "nicu")],
        Filters(reviewing_cdops=(codes.UNASSIGNED,)): [r for r in rows if not r["reviewing_cdop_code"]],
        Filters(reviewing_cdops=("LLR", codes.UNASSIGNED)): [
            r for r in rows if r["reviewing_cdop_code"] in ("LLR", None)
        ],
        Filters(review_statuses=("completed",)): [r for r in rows if r["review_status"] == "completed"],
        Filters(date_from=date(2024, 1, 1), date_to=date(2024, 1, 31)): [
            r for r in rows if "2024-01-01" <= r["date_of_death"] <= "2024-01-31"
        ],
        Filters(residence_groups=("outside_uk",)): [r for r in rows if r["residence_la_code"] == "Z99999999"],
        Filters(site_codes=("RWEAA",), age_groups=("0-27d",)): [
            r for r in rows if r["site_code"] == "RWEAA" and int(r["age_at_death_days"]) < 28
        ],
    }
    for filters, expected in cases.items():
        assert report.case_count(conn, scope, filters) == len(expected), filters


# ---------------------------------------------------------------- scope is sacred


@st.composite
def raw_filters(draw: st.DrawFn, foreign: list[str]) -> dict[str, object]:
    """Untrusted filter input: a mix of real codes, other footprints' codes, junk and wrong types."""
    junk = st.one_of(
        st.sampled_from(foreign),
        st.text(max_size=20),
        st.integers(),
        st.none(),
        st.booleans(),
        st.sampled_from(["' OR 1=1 --", "RWE'; DROP TABLE deaths; --", codes.UNASSIGNED, "2023", "nicu"]),
    )
    keys = [
        "financial_years",
        "trust_codes",
        "site_codes",
        "places",
        "age_groups",
        "reviewing_cdops",
        "residence_groups",
        "review_statuses",
        "date_from",
        "date_to",
        "unknown_key",
    ]
    return draw(st.dictionaries(st.sampled_from(keys), st.one_of(junk, st.lists(junk, max_size=6)), max_size=6))


ALL_TRUSTS = sorted({s["trust_code"] for s in SITES.values()})
ALL_SITES = sorted(SITES)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(data=st.data())
def test_no_scope_and_no_filter_ever_returns_a_row_from_another_footprint(
    conn: duckdb.DuckDBPyConnection, scopes: dict[str, Scope], data: st.DataObject
) -> None:
    cdops = sorted(c for c in scopes if c != "ENGLAND")
    held = data.draw(st.lists(st.sampled_from(cdops), min_size=1, max_size=3, unique=True))
    scope = cdop_scope(conn, held, TODAY)
    raw = data.draw(raw_filters(ALL_TRUSTS + ALL_SITES + cdops))
    options = report.filter_options(conn, scope)
    filters = options.clean(raw)
    own_sites = {code for code, s in SITES.items() if s["trust_code"] in scope.trust_codes}

    assert set(filters.trust_codes) <= set(scope.trust_codes)
    assert set(filters.site_codes) <= own_sites
    assert {o.value for o in options.trusts} <= set(scope.trust_codes)
    assert {o.value for o in options.sites} <= own_sites
    assert set(report.by_trust(conn, scope, filters)["trust_code"]) <= set(scope.trust_codes)
    assert set(report.by_site(conn, scope, filters)["site_code"]) <= own_sites
    matrix = report.by_site_reviewing_cdop(conn, scope, filters)
    assert set(matrix["site_code"]) <= own_sites
    cases = report.case_list(conn, scope, filters, limit=1000)
    own_site_names = {SITES[c]["site_name"] for c in own_sites}
    assert set(cases["site_name"]) <= own_site_names
    total = report.headline(conn, scope, filters)["deaths"][0]
    assert (
        total == report.case_count(conn, scope, filters) == int(report.by_trust(conn, scope, filters)["deaths"].sum())
    )


def test_forged_filters_naming_other_footprints_show_nothing(
    conn: duckdb.DuckDBPyConnection, scopes: dict[str, Scope]
) -> None:
    llr = scopes["LLR"]
    forged = Filters(trust_codes=("RBS", "RP4"), site_codes=("RBS25",))  # bypassing clean() on purpose
    assert report.case_count(conn, llr, forged) == 0
    assert report.by_trust(conn, llr, forged).height == 0
    options = report.filter_options(conn, llr)
    assert options.clean({"trust_codes": ["RBS", "RWE"], "site_codes": "RBS25"}).trust_codes == ("RWE",)
    assert options.clean({"trust_codes": ["RBS"]}).site_codes == ()


@settings(max_examples=200, deadline=None)
@given(
    raw=st.recursive(
        st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=30),
        lambda children: st.lists(children, max_size=5) | st.dictionaries(st.text(max_size=15), children, max_size=5),
        max_leaves=20,
    )
)
def test_cleaning_any_input_never_fails(raw: object) -> None:
    from queries.filters import FilterOptions, Option

    options = FilterOptions(
        financial_years=(Option("2024", "2024/25"),),
        trusts=(Option("RWE", "UHL"),),
        sites=(Option("RWEAA", "LRI", "RWE"),),
        reviewing_cdops=(Option("LLR", "LLR"),),
        first_date=None,
        last_date=None,
    )
    cleaned = options.clean(raw if isinstance(raw, dict) else {"trust_codes": raw})
    assert set(cleaned.trust_codes) <= {"RWE"}
    assert set(cleaned.financial_years) <= {2024}


# ---------------------------------------------------------------- shapes the dashboard needs


def test_case_list_pages_cover_every_case_once_and_ignore_unknown_sort_columns(
    conn: duckdb.DuckDBPyConnection, scopes: dict[str, Scope]
) -> None:
    scope = scopes["NCL"]
    total = report.case_count(conn, scope, Filters())
    pages = [
        report.case_list(
            conn,
            scope,
            Filters(),
            sort=[("trust_name", False), ("case_id; DROP TABLE deaths", True)],
            limit=50,
            offset=offset,
        )
        for offset in range(0, total, 50)
    ]
    refs = [ref for page in pages for ref in page["case_ref"]]
    assert len(refs) == len(set(refs)) == total
    assert all(ref.startswith("C") and len(ref) == 11 for ref in refs)
    streamed = pl.concat(list(report.iter_cases(conn, scope, Filters(), batch_rows=37)))
    assert streamed.height == total and set(streamed["case_ref"]) == set(refs)
    # streamed a few months at a time, yet in the order of one sort of every case
    newest_first = report.case_list(
        conn, scope, Filters(), sort=[("date_of_death", True), ("case_ref", False)], limit=total
    )
    assert streamed["case_ref"].to_list() == newest_first["case_ref"].to_list()
    assert pl.concat(list(report.iter_cases(conn, scope, Filters(), batch_rows=10**6))).equals(streamed)
    assert "case_id" not in pages[0].columns  # pseudonymous ids only


def test_trends_fill_quiet_periods_with_zero(conn: duckdb.DuckDBPyConnection, scopes: dict[str, Scope]) -> None:
    scope = scopes["LLR"]
    months = report.by_period(conn, scope, Filters(financial_years=(2023,)), "month")
    assert months.height == 12 and months["period"][0] == "Apr 2023" and months["period"][-1] == "Mar 2024"
    quarters = report.by_period(conn, scope, Filters(financial_years=(2023, 2024)), "quarter", split="place")
    assert quarters["period"].unique().len() == 8
    assert quarters["deaths"].sum() == report.case_count(conn, scope, Filters(financial_years=(2023, 2024)))
    years = report.by_period(conn, scope, Filters(), "financial_year")
    assert years["period"].to_list() == [codes.financial_year_label(y) for y in range(2019, 2026)]
    with pytest.raises(ValueError):
        report.by_period(conn, scope, Filters(), "week")


def test_dimensions_come_from_a_fixed_list(conn: duckdb.DuckDBPyConnection, scopes: dict[str, Scope]) -> None:
    with pytest.raises(ValueError, match="unknown dimensions"):
        report.counts(conn, scopes["LLR"], Filters(), ["trust_code; DROP TABLE deaths"])
    full = report.by_trust_site_place_age(conn, scopes["LLR"], Filters())
    assert {"trust_name", "site_name", "place_label", "age_group_label", "deaths"} <= set(full.columns)


def test_options_offer_own_trusts_and_only_the_cdops_reviewing_deaths_there(
    conn: duckdb.DuckDBPyConnection, scopes: dict[str, Scope]
) -> None:
    scope = scopes["LLR"]
    options = report.filter_options(conn, scope)
    reviewers = {o.value for o in options.reviewing_cdops} - {codes.UNASSIGNED}
    shown = set(report.by_reviewing_cdop(conn, scope, Filters())["reviewing_cdop_code"]) - {codes.UNASSIGNED}
    assert reviewers == shown
    assert [o.value for o in options.trusts] == ["RWE"]
    assert options.first_date is not None and options.last_date is not None


def test_data_facts_say_the_store_is_synthetic(conn: duckdb.DuckDBPyConnection) -> None:
    facts = report.data_facts(conn)
    assert facts["synthetic"] is True and facts["as_at"] == date(2026, 3, 31) and facts["deaths"] > 5000


# ---------------------------------------------------------------- one query, many breakdowns


@pytest.mark.parametrize("cdop", ["NCL", "ENGLAND"])
@pytest.mark.parametrize("filters", [Filters(), Filters(financial_years=(2021, 2023)), Filters(places=("picu",))])
def test_rolling_up_one_query_gives_the_same_numbers_as_asking_the_store(
    conn: duckdb.DuckDBPyConnection, scopes: dict[str, Scope], cdop: str, filters: Filters
) -> None:
    scope = scopes[cdop]
    dims = ["trust", "site", "place", "age_group", "residence_group", "review_group", "reviewing_cdop", "quarter"]
    base = report.counts(conn, scope, filters, dims)
    for by in (
        ["trust"],
        ["site"],
        ["place"],
        ["age_group"],
        ["reviewing_cdop"],
        ["trust", "place"],
        ["site", "review_group"],
        ["site", "residence_group"],
        ["site", "reviewing_cdop"],
        ["reviewing_cdop", "review_group"],
        ["quarter"],
    ):
        direct = report.counts(conn, scope, filters, by)
        assert report.rollup(base, by).equals(direct.select(report.rollup(base, by).columns)), by
    assert report.headline_from(base).equals(report.headline(conn, scope, filters))
    quarters = report.periods(report.rollup(base, ["quarter"]), filters, "quarter")
    assert quarters.equals(report.by_period(conn, scope, filters, "quarter"))

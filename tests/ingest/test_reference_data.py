"""The committed reference tables are well formed and consistent with each other."""

from __future__ import annotations

import csv
import itertools
import re
from datetime import date, timedelta
from pathlib import Path

import pytest

from ingest.reference_build import derive_footprint, title_case, upper_tier_code
from settings import REFERENCE_DIR

HOSPITAL_UNITS = ("nicu", "lnu", "scu", "picu", "ed", "maternity", "paediatric_ward")
INPATIENT_UNITS = ("nicu", "lnu", "scu", "picu", "maternity", "paediatric_ward")


def rows(name: str) -> list[dict[str, str]]:
    with (REFERENCE_DIR / name).open(newline="", encoding="utf-8") as handle:
        return list(csv.DictReader(handle))


def day(text: str) -> date | None:
    return date.fromisoformat(text) if text else None


def in_force(row: dict[str, str], on: date) -> bool:
    start, end = day(row["valid_from"]), day(row["valid_to"])
    return start is not None and start <= on and (end is None or on < end)


@pytest.fixture(scope="module")
def tables() -> dict[str, list[dict[str, str]]]:
    names = ["regions", "icbs", "local_authorities", "cdops", "trusts", "sites", "footprint"]
    return {name: rows(f"{name}.csv") for name in names}


def boundary_dates(tables: dict[str, list[dict[str, str]]]) -> list[date]:
    """Every date on which the mapping can change, the day before it, and today."""
    edges = {date(2019, 4, 1), date.today()}
    for name in ("cdops", "footprint"):
        for row in tables[name]:
            for column in ("valid_from", "valid_to"):
                if row[column]:
                    edges.add(date.fromisoformat(row[column]))
    return sorted(edges | {d - timedelta(days=1) for d in edges if d > date(2019, 4, 1)})


CODE_PATTERNS = {
    ("regions", "region_code"): r"Y\d{2}",
    ("icbs", "icb_code"): r"Q[A-Z0-9]{2}",
    ("icbs", "icb_gss_code"): r"E54\d{6}",
    ("local_authorities", "la_code"): r"E(06|08|09|10)\d{6}",
    ("cdops", "cdop_code"): r"[A-Z][A-Z0-9]{1,9}",
    ("trusts", "trust_code"): r"[A-Z0-9]{3}",
    ("sites", "site_code"): r"[A-Z0-9]{5}",
}


@pytest.mark.parametrize(("table", "column"), list(CODE_PATTERNS))
def test_codes_are_well_formed_and_unique(tables: dict, table: str, column: str) -> None:
    values = [row[column] for row in tables[table]]
    pattern = re.compile(CODE_PATTERNS[(table, column)])
    assert [v for v in values if not pattern.fullmatch(v)] == []
    assert len(values) == len(set(values)), f"duplicate {column} in {table}.csv"


def test_there_are_the_english_upper_tier_authorities_and_their_areas_exist(tables: dict) -> None:
    las = tables["local_authorities"]
    assert len(las) == 153  # 2023 onwards: 21 counties, 63 unitaries, 36 metropolitan districts, 33 London
    regions = {r["region_code"] for r in tables["regions"]}
    icbs = {r["icb_code"] for r in tables["icbs"]}
    assert {la["region_code"] for la in las} <= regions
    assert {la["icb_code"] for la in las} <= icbs
    assert len(icbs) == 42


def test_every_site_has_a_known_trust_and_area(tables: dict) -> None:
    trusts = {t["trust_code"]: t for t in tables["trusts"]}
    las = {la["la_code"] for la in tables["local_authorities"]}
    for site in tables["sites"]:
        assert site["trust_code"] in trusts, site["site_code"]
        assert site["country"] in ("England", "Wales")
        if site["country"] == "England":
            assert site["la_code"] in las, site["site_code"]
        else:
            assert site["la_code"].startswith("W06"), site["site_code"]
        assert -7 < float(site["longitude"]) < 2 and 49.8 < float(site["latitude"]) < 55.9


def test_unit_flags_are_booleans_and_about_twenty_picus_exist(tables: dict) -> None:
    english = [s for s in tables["sites"] if s["country"] == "England"]
    for site in tables["sites"]:
        assert {site[u] for u in HOSPITAL_UNITS} <= {"true", "false"}
    picus = [s for s in english if s["picu"] == "true"]
    assert 18 <= len(picus) <= 22  # domain primer: about 20 PICUs in England
    neonatal = [s for s in english if "true" in (s["nicu"], s["lnu"], s["scu"])]
    assert len(neonatal) >= 100


def test_every_cdop_covers_local_authorities_that_exist(tables: dict) -> None:
    las = {la["la_code"] for la in tables["local_authorities"]}
    for cdop in tables["cdops"]:
        covered = cdop["la_codes"].split(";")
        assert covered and all(covered), cdop["cdop_code"]
        assert set(covered) <= las, cdop["cdop_code"]


def test_every_local_authority_has_exactly_one_cdop_on_every_date(tables: dict) -> None:
    las = {la["la_code"] for la in tables["local_authorities"]}
    for on in boundary_dates(tables):
        cover: dict[str, list[str]] = {}
        for cdop in tables["cdops"]:
            if in_force(cdop, on):
                for la in cdop["la_codes"].split(";"):
                    cover.setdefault(la, []).append(cdop["cdop_code"])
        assert set(cover) == las, f"uncovered on {on}: {sorted(las - set(cover))}"
        assert {la: c for la, c in cover.items() if len(c) > 1} == {}, on


def test_about_58_cdops_are_in_force_and_history_holds_a_merger(tables: dict) -> None:
    now = [c for c in tables["cdops"] if in_force(c, date.today())]
    assert 55 <= len(now) <= 60
    merged = [c for c in tables["cdops"] if c["successor_code"]]
    assert merged, "the mapping should keep at least one merger in its history"
    by_code = {c["cdop_code"]: c for c in tables["cdops"]}
    for old in merged:
        new = by_code[old["successor_code"]]
        assert old["valid_to"] == new["valid_from"]
        assert set(old["la_codes"].split(";")) <= set(new["la_codes"].split(";"))


def test_footprint_rows_name_known_trusts_and_cdops_in_force(tables: dict) -> None:
    trusts = {t["trust_code"] for t in tables["trusts"]}
    cdops = {c["cdop_code"]: c for c in tables["cdops"]}
    for row in tables["footprint"]:
        assert row["trust_code"] in trusts
        assert row["cdop_code"] in cdops
        start, end = day(row["valid_from"]), day(row["valid_to"])
        assert start is not None and (end is None or start < end)
        cdop = cdops[row["cdop_code"]]
        assert day(cdop["valid_from"]) <= start
        assert day(cdop["valid_to"]) is None or (end is not None and end <= day(cdop["valid_to"]))


def test_no_overlapping_validity_periods_for_a_trust_and_cdop(tables: dict) -> None:
    periods: dict[tuple[str, str], list[tuple[date, date]]] = {}
    for row in tables["footprint"]:
        end = day(row["valid_to"]) or date.max
        periods.setdefault((row["trust_code"], row["cdop_code"]), []).append((day(row["valid_from"]), end))
    for key, spans in periods.items():
        spans.sort()
        for (_, first_end), (second_start, _) in itertools.pairwise(spans):
            assert first_end <= second_start, key


def test_every_trust_with_an_inpatient_site_is_in_a_footprint_on_every_date(tables: dict) -> None:
    inpatient_trusts = {
        s["trust_code"]
        for s in tables["sites"]
        if s["country"] == "England" and any(s[u] == "true" for u in INPATIENT_UNITS)
    }
    assert len(inpatient_trusts) > 100
    for on in boundary_dates(tables):
        mapped = {row["trust_code"] for row in tables["footprint"] if in_force(row, on)}
        assert inpatient_trusts <= mapped, f"unmapped on {on}: {sorted(inpatient_trusts - mapped)}"


def test_the_committed_footprint_is_what_the_documented_derivation_gives(tables: dict) -> None:
    derived = derive_footprint(tables["sites"], tables["cdops"])
    assert [{k: str(v) for k, v in row.items()} for row in derived] == tables["footprint"]


def test_a_trust_with_sites_in_two_footprints_maps_to_both() -> None:
    footprint = rows("footprint.csv")
    rtg = {r["cdop_code"] for r in footprint if r["trust_code"] == "RTG" and not r["valid_to"]}
    assert rtg == {"DDER", "SSOT"}  # Royal Derby and Burton hospitals


def test_district_codes_map_to_their_upper_tier_authority() -> None:
    assert upper_tier_code("E07000008") == "E10000003"  # Cambridge -> Cambridgeshire
    assert upper_tier_code("E07000028") == "E06000063"  # Carlisle -> Cumberland (2023)
    assert upper_tier_code("E07000027") == "E06000064"  # Barrow -> Westmorland and Furness
    assert upper_tier_code("E07000246") == "E06000066"  # Somerset West and Taunton -> Somerset
    assert upper_tier_code("E08000025") == "E08000025"
    with pytest.raises(ValueError, match="no upper-tier"):
        upper_tier_code("E07000999")


def test_names_read_naturally() -> None:
    assert title_case("ALDER HEY CHILDREN'S NHS FOUNDATION TRUST") == "Alder Hey Children's NHS Foundation Trust"
    assert title_case("BURTON-ON-TRENT") == "Burton-on-Trent"
    assert title_case("ST MARY'S HOSPITAL (HQ)") == "St Mary's Hospital (HQ)"


def test_reference_files_are_utf8_csv_with_headers() -> None:
    for path in Path(REFERENCE_DIR).glob("*.csv"):
        text = path.read_text(encoding="utf-8")
        assert text.endswith("\n") and "\r" not in text, path.name

"""Build data/reference/*.csv from public NHS organisation data (a developer tool).

The app never runs this: it reads the committed tables in data/reference/. Run it
again when the public source files change:

    python -m ingest.reference_build --source ../shared/reference

Inputs it combines (see data/README.md for the full story):
- the ODS-derived source files (trusts, sites, ICBs, regions);
- data/reference/local_authorities.csv and cdops.csv (curated by hand);
- data/reference/sources/site_units.csv (which units each hospital site has).
Outputs: regions.csv, icbs.csv, trusts.csv, sites.csv, footprint.csv.
"""

from __future__ import annotations

import argparse
import csv
import re
from collections import Counter, defaultdict
from pathlib import Path

REFERENCE_DIR = Path(__file__).resolve().parent.parent / "data" / "reference"
NCMD_START = "2019-04-01"
UNIT_COLUMNS = {
    "NICU": "nicu",
    "LNU": "lnu",
    "SCU": "scu",
    "PICU": "picu",
    "ED": "ed",
    "MAT": "maternity",
    "WARD": "paediatric_ward",
}
# Sites in the source that are not NHS hospital sites in England or Wales.
EXCLUDED_SITES = {
    "8HV48": "a professional body's office, not a care site",
    "RGT1W": "in Jersey, outside England and Wales",
}
SPECIALIST_CHILDRENS_TRUSTS = {"RBS", "RCU", "RP4", "RQ3"}

# ONS numbers shire districts (E07) in blocks by county. Counties abolished in
# 2023 map to their successor unitary authority.
DISTRICT_BLOCKS: list[tuple[int, int, str]] = [
    (8, 12, "E10000003"),
    (32, 39, "E10000007"),
    (40, 47, "E10000008"),
    (61, 65, "E10000011"),
    (66, 77, "E10000012"),
    (78, 83, "E10000013"),
    (84, 94, "E10000014"),
    (95, 103, "E10000015"),
    (240, 243, "E10000015"),
    (105, 116, "E10000016"),
    (117, 128, "E10000017"),
    (129, 135, "E10000018"),
    (136, 142, "E10000019"),
    (143, 149, "E10000020"),
    (163, 169, "E06000065"),
    (170, 176, "E10000024"),
    (177, 181, "E10000025"),
    (187, 191, "E06000066"),
    (246, 246, "E06000066"),
    (192, 199, "E10000028"),
    (200, 205, "E10000029"),
    (244, 245, "E10000029"),
    (207, 217, "E10000030"),
    (218, 222, "E10000031"),
    (223, 229, "E10000032"),
    (234, 239, "E10000034"),
]
CUMBRIA_DISTRICTS = {
    26: "E06000063",  # Allerdale -> Cumberland
    28: "E06000063",  # Carlisle -> Cumberland
    29: "E06000063",  # Copeland -> Cumberland
    27: "E06000064",  # Barrow-in-Furness -> Westmorland and Furness
    30: "E06000064",  # Eden -> Westmorland and Furness
    31: "E06000064",  # South Lakeland -> Westmorland and Furness
}

_KEEP_UPPER = {
    "NHS",
    "II",
    "HQ",
    "UCH",
    "RVI",
    "QMC",
    "LHB",
    "CDC",
    "GSTT",
    "KMH",
    "MKGH",
    "EPACT",
    "EPMA",
    "BCP",
    "RBH",
    "LLR",
    "N.FOREST",
    "ICB",
    "UK",
}
_SMALL_WORDS = {"and", "of", "the", "for", "upon", "on", "in", "at", "le", "under", "with"}


def title_case(name: str) -> str:
    """ODS names are upper case; make them readable without mangling acronyms."""
    words = name.replace("’", "'").split()
    out = []
    for index, word in enumerate(words):
        if word.strip("()").upper() in _KEEP_UPPER or re.fullmatch(r"\(?[A-Z]{1,2}\d[\w)]*", word):
            out.append(word.upper())
            continue
        parts = word.lower().split("-")
        fixed = []
        for part_index, part in enumerate(parts):
            first = index == 0 and part_index == 0
            if part in _SMALL_WORDS and not first:
                fixed.append(part)
            else:
                fixed.append(_capitalise(part))
        out.append("-".join(fixed))
    return " ".join(out)


def _capitalise(word: str) -> str:
    for i, char in enumerate(word):
        if char.isalpha():
            return word[:i] + char.upper() + word[i + 1 :]
    return word


def upper_tier_code(lad_code: str) -> str:
    """Map a district GSS code to the upper-tier authority (county or unitary)."""
    if lad_code.startswith(("E06", "E08", "E09", "E10", "W06")):
        return lad_code
    if lad_code.startswith("E07"):
        number = int(lad_code[3:])
        if number in CUMBRIA_DISTRICTS:
            return CUMBRIA_DISTRICTS[number]
        for low, high, county in DISTRICT_BLOCKS:
            if low <= number <= high:
                return county
    raise ValueError(f"no upper-tier authority known for district {lad_code!r}")


def _read(path: Path) -> list[dict[str, str]]:
    with path.open(newline="", encoding="utf-8") as handle:
        return list(csv.DictReader(handle))


def _write(path: Path, fieldnames: list[str], rows: list[dict[str, object]]) -> None:
    with path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.DictWriter(handle, fieldnames=fieldnames, lineterminator="\n")
        writer.writeheader()
        writer.writerows(rows)
    print(f"wrote {len(rows):4d} rows to {path.relative_to(REFERENCE_DIR.parent.parent)}")


def build(source: Path, out: Path = REFERENCE_DIR) -> None:
    las = {row["la_code"]: row for row in _read(out / "local_authorities.csv")}
    cdops = _read(out / "cdops.csv")
    units = {row["site_code"]: row for row in _read(out / "sources" / "site_units.csv")}

    regions = [
        {k: row[k] for k in ("region_code", "region_gss_code", "region_name")}
        for row in _read(source / "nhs_england_regions.csv")
    ]
    _write(out / "regions.csv", ["region_code", "region_gss_code", "region_name"], regions)

    icb_region = {
        row["icb_code"]: row["region_code"]
        for row in _read(source / "icb_sub_icb_local_authorities.csv")
        if row["icb_code"]
    }
    icbs = [
        {
            "icb_code": row["icb_code"],
            "icb_gss_code": row["icb_gss_code"],
            "icb_name": title_case(row["icb_name"]),
            "region_code": icb_region[row["icb_code"]],
        }
        for row in sorted(_read(source / "icbs.csv"), key=lambda r: r["icb_code"])
    ]
    _write(out / "icbs.csv", ["icb_code", "icb_gss_code", "icb_name", "region_code"], icbs)

    sites = []
    site_trust_names: dict[str, str] = {}
    for row in _read(source / "sites.csv"):
        code = row["site_code"]
        if code in EXCLUDED_SITES:
            continue
        site_trust_names.setdefault(row["trust_code"], row["trust_name"])
        lad = row["lad_code"]
        la_code = upper_tier_code(lad)
        country = "Wales" if lad.startswith("W") else "England"
        if country == "England" and la_code not in las:
            raise ValueError(f"site {code}: upper-tier authority {la_code} is not in local_authorities.csv")
        site_units = set(filter(None, units.get(code, {}).get("units", "").split(";")))
        unknown = site_units - UNIT_COLUMNS.keys()
        if unknown:
            raise ValueError(f"site {code}: unknown unit codes {sorted(unknown)}")
        record: dict[str, object] = {
            "site_code": code,
            "site_name": title_case(row["site_name"]),
            "trust_code": row["trust_code"],
            "postcode": row["postcode"],
            "latitude": round(float(row["latitude"]), 5),
            "longitude": round(float(row["longitude"]), 5),
            "lad_code": lad,
            "la_code": la_code,
            "country": country,
        }
        for unit, column in UNIT_COLUMNS.items():
            record[column] = "true" if unit in site_units else "false"
        record["opened"] = units.get(code, {}).get("opened", "")
        record["closed"] = units.get(code, {}).get("closed", "")
        sites.append(record)
    missing_units = set(units) - {s["site_code"] for s in sites}
    if missing_units:
        raise ValueError(f"site_units.csv names sites not in the source: {sorted(missing_units)}")
    sites.sort(key=lambda s: str(s["site_code"]))
    site_fields = [
        "site_code",
        "site_name",
        "trust_code",
        "postcode",
        "latitude",
        "longitude",
        "lad_code",
        "la_code",
        "country",
        *UNIT_COLUMNS.values(),
        "opened",
        "closed",
    ]
    _write(out / "sites.csv", site_fields, sites)

    trusts_source = {row["trust_code"]: row for row in _read(source / "trusts.csv")}
    sites_by_trust: dict[str, list[dict[str, object]]] = defaultdict(list)
    for site in sites:
        sites_by_trust[str(site["trust_code"])].append(site)
    trusts = []
    for trust_code, trust_sites in sorted(sites_by_trust.items()):
        # Welsh health boards are missing from the trust file; the site file names them.
        src = trusts_source.get(trust_code) or {"trust_name": site_trust_names[trust_code], "postcode": ""}
        country = str(trust_sites[0]["country"])
        regions_seen = Counter(las[str(s["la_code"])]["region_code"] for s in trust_sites if s["country"] == "England")
        if country == "Wales":
            trust_type = "local health board"
        elif trust_code in SPECIALIST_CHILDRENS_TRUSTS:
            trust_type = "specialist children's"
        elif any(_is_hospital(s) for s in trust_sites):
            trust_type = "acute"
        else:
            trust_type = "community or other"
        trusts.append(
            {
                "trust_code": trust_code,
                "trust_name": title_case(src["trust_name"]),
                "trust_type": trust_type,
                "region_code": regions_seen.most_common(1)[0][0] if regions_seen else "",
                "country": country,
                "postcode": src["postcode"],
            }
        )
    _write(out / "trusts.csv", ["trust_code", "trust_name", "trust_type", "region_code", "country", "postcode"], trusts)

    footprint = derive_footprint(sites, cdops)
    _write(out / "footprint.csv", ["trust_code", "cdop_code", "valid_from", "valid_to"], footprint)


def _is_hospital(site: dict[str, object]) -> bool:
    return any(site[column] == "true" for column in UNIT_COLUMNS.values())


def derive_footprint(sites: list[dict[str, object]], cdops: list[dict[str, str]]) -> list[dict[str, object]]:
    """A trust lies in the footprint of every CDOP covering a local authority
    where it has a hospital site (inpatient unit or emergency department)."""
    trust_las: dict[str, set[str]] = defaultdict(set)
    for site in sites:
        if site["country"] == "England" and _is_hospital(site):
            trust_las[str(site["trust_code"])].add(str(site["la_code"]))
    rows = []
    for trust_code, la_codes in sorted(trust_las.items()):
        for cdop in cdops:
            if la_codes & set(cdop["la_codes"].split(";")):
                rows.append(
                    {
                        "trust_code": trust_code,
                        "cdop_code": cdop["cdop_code"],
                        "valid_from": max(cdop["valid_from"], NCMD_START),
                        "valid_to": cdop["valid_to"],
                    }
                )
    return sorted(rows, key=lambda r: (r["trust_code"], r["valid_from"], r["cdop_code"]))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--source", type=Path, required=True, help="folder of the public source CSVs")
    args = parser.parse_args()
    build(args.source)


if __name__ == "__main__":
    main()

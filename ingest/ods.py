"""Refreshing trusts and sites from the NHS Organisation Data Service files
administrators download: ``etr.csv`` (trusts) and ``ets.csv`` (sites).

Both are headerless CSV: ODS code, name, national grouping (region), high
level health geography (ICB), five address lines, postcode, open date, close
date (``YYYYMMDD``), then columns this app does not read. A site's parent trust
is the first three characters of its code.

``diff`` says what is new, renamed or closed, and which trusts with inpatient
sites no CDOP footprint covers; it writes nothing (the admin page shows it).
``apply`` is for the command line only, the deaths store's one writer: it
writes the refreshed tables to ``DATA_DIR/reference`` (which every later load
reads instead of the project's copy, so the refresh is not undone) and swaps
them into the store.
"""

from __future__ import annotations

import csv
import io
import re
import shutil
from dataclasses import dataclass
from datetime import date
from pathlib import Path

import duckdb
import polars as pl

from ingest.reference import install_reference, read_reference
from queries.mapping import Mapping
from queries.schema import HOSPITAL_UNITS, refresh_report_facts
from queries.store import rewrite
from settings import REFERENCE_DIR, Settings

CODE_TRUST = re.compile(r"[A-Z0-9]{3}")
CODE_SITE = re.compile(r"[A-Z0-9]{5}")
MAX_BYTES = 50_000_000
NAMES_KEPT_UPPER = {"NHS", "UK", "ICB", "LHB", "PCT", "CIC", "HM", "II", "III"}
NAMES_LOWER = {"and", "of", "the", "for", "in", "on", "at"}


class OdsUnusable(ValueError):
    """A file that is not an ODS etr/ets extract (one line, for a person)."""


@dataclass(frozen=True)
class OdsOrg:
    code: str
    name: str
    region: str
    icb: str
    postcode: str
    opened: date | None
    closed: date | None


@dataclass(frozen=True)
class OdsDiff:
    new_trusts: list[tuple[str, str]]
    renamed_trusts: list[tuple[str, str, str]]  # code, old name, new name
    closed_trusts: list[tuple[str, str, date]]
    new_sites: list[tuple[str, str, str]]  # code, name, trust
    renamed_sites: list[tuple[str, str, str]]
    closed_sites: list[tuple[str, str, date]]
    uncovered: list[tuple[str, str, str]]  # trust, name, its open inpatient sites
    skipped_sites: int  # sites whose trust is neither known nor in etr.csv

    def lines(self) -> list[str]:
        out = [
            f"{len(self.new_trusts)} new trusts, {len(self.renamed_trusts)} renamed, {len(self.closed_trusts)} closed; "
            f"{len(self.new_sites)} new sites, {len(self.renamed_sites)} renamed, {len(self.closed_sites)} closed"
        ]
        out += [f"new trust {c}: {n}" for c, n in self.new_trusts]
        out += [f"renamed trust {c}: {o} -> {n}" for c, o, n in self.renamed_trusts]
        out += [f"closed trust {c}: {n} on {d}" for c, n, d in self.closed_trusts]
        out += [f"renamed site {c}: {o} -> {n}" for c, o, n in self.renamed_sites]
        out += [f"closed site {c}: {n} on {d}" for c, n, d in self.closed_sites]
        out += [f"NOT IN ANY CDOP FOOTPRINT: trust {c} ({n}), inpatient sites {s}" for c, n, s in self.uncovered]
        return out


def read_ods(data: bytes, kind: str) -> list[OdsOrg]:
    """The organisations in an etr.csv (``kind`` "trusts") or ets.csv ("sites") file."""
    if len(data) > MAX_BYTES:
        raise OdsUnusable(f"the {kind} file is larger than {MAX_BYTES // 1_000_000} MB")
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError:
        text = data.decode("latin-1")
    pattern = CODE_TRUST if kind == "trusts" else CODE_SITE
    found: list[OdsOrg] = []
    for number, row in enumerate(csv.reader(io.StringIO(text)), start=1):
        if not row or not any(cell.strip() for cell in row):
            continue
        if len(row) < 12:
            raise OdsUnusable(f"{kind} file row {number}: {len(row)} columns, an ODS file has at least 12")
        code = row[0].strip().upper()
        if not pattern.fullmatch(code):
            expected = "3" if kind == "trusts" else "5"
            raise OdsUnusable(f"{kind} file row {number}: {code[:20]!r} is not a {expected}-character ODS code")
        found.append(
            OdsOrg(
                code=code,
                name=row[1].strip(),
                region=row[2].strip(),
                icb=row[3].strip(),
                postcode=row[9].strip(),
                opened=_ods_date(row[10], kind, number),
                closed=_ods_date(row[11], kind, number),
            )
        )
    if not found:
        raise OdsUnusable(f"the {kind} file has no rows")
    return found


def _ods_date(text: str, kind: str, number: int) -> date | None:
    text = text.strip()
    if not text:
        return None
    try:
        return date(int(text[:4]), int(text[4:6]), int(text[6:8])) if len(text) == 8 and text.isdigit() else _bad(text)
    except ValueError:
        raise OdsUnusable(f"{kind} file row {number}: {text[:20]!r} is not a date as YYYYMMDD") from None


def _bad(text: str) -> date:
    raise ValueError(text)


def title(name: str) -> str:
    """ODS names are in capitals: 'LEEDS TEACHING HOSPITALS NHS TRUST' -> 'Leeds Teaching Hospitals NHS Trust'."""
    words = []
    for i, word in enumerate(name.split()):
        if word.upper() in NAMES_KEPT_UPPER:
            words.append(word.upper())
        elif i > 0 and word.lower() in NAMES_LOWER:
            words.append(word.lower())
        else:
            words.append("-".join(part[:1].upper() + part[1:].lower() for part in word.split("-")))
    return " ".join(words)


def diff(
    conn: duckdb.DuckDBPyConnection, trusts: list[OdsOrg], sites: list[OdsOrg], mapping: Mapping, today: date
) -> OdsDiff:
    """What the ODS files change in the store's reference tables, and the trusts
    with inpatient sites that the mapping in force ``today`` leaves without a CDOP."""
    known_trusts = dict(
        conn.execute("SELECT trust_code, trust_name FROM ref_trusts WHERE country = 'England'").fetchall()
    )
    known_sites = {
        code: (name, trust, closed)
        for code, name, trust, closed in conn.execute(
            "SELECT site_code, site_name, trust_code, closed FROM ref_sites WHERE country = 'England'"
        ).fetchall()
    }
    ods_trusts = {t.code: t for t in trusts}
    new_trusts = [(t.code, title(t.name)) for t in trusts if t.code not in known_trusts and t.closed is None]
    renamed_trusts = [
        (t.code, known_trusts[t.code], title(t.name))
        for t in trusts
        if t.code in known_trusts and t.name.lower() != known_trusts[t.code].lower()
    ]
    closed_trusts = [(t.code, known_trusts[t.code], t.closed) for t in trusts if t.code in known_trusts and t.closed]
    usable = [s for s in sites if s.code[:3] in known_trusts or s.code[:3] in ods_trusts]
    new_sites = [(s.code, title(s.name), s.code[:3]) for s in usable if s.code not in known_sites and s.closed is None]
    renamed_sites = [
        (s.code, known_sites[s.code][0], title(s.name))
        for s in usable
        if s.code in known_sites and s.name.lower() != known_sites[s.code][0].lower()
    ]
    closed_sites = [
        (s.code, known_sites[s.code][0], s.closed)
        for s in usable
        if s.code in known_sites and s.closed and known_sites[s.code][2] is None
    ]
    covered = {r.trust_code for r in mapping.footprint if r.covers(today)}
    closing = {s.code for s in sites if s.closed and s.closed <= today}
    inpatient = conn.execute(
        f"""
        SELECT trust_code, string_agg(site_code, ' ' ORDER BY site_code) FROM ref_sites
        WHERE country = 'England' AND closed IS NULL AND ({" OR ".join(HOSPITAL_UNITS)})
        GROUP BY trust_code ORDER BY trust_code
        """
    ).fetchall()
    uncovered = []
    for trust, codes in inpatient:
        open_sites = [c for c in str(codes).split() if c not in closing]
        if open_sites and trust not in covered:
            uncovered.append((str(trust), known_trusts.get(trust, trust), " ".join(open_sites)))
    return OdsDiff(
        new_trusts=new_trusts,
        renamed_trusts=renamed_trusts,
        closed_trusts=closed_trusts,
        new_sites=new_sites,
        renamed_sites=renamed_sites,
        closed_sites=closed_sites,
        uncovered=uncovered,
        skipped_sites=len(sites) - len(usable),
    )


def apply(settings: Settings, trusts: list[OdsOrg], sites: list[OdsOrg]) -> Path:
    """Write the refreshed trusts and sites to ``DATA_DIR/reference`` and swap
    them into the deaths store (offline: the command line, under the writer lock)."""
    folder = settings.data_dir / "reference"
    source = folder if (folder / "trusts.csv").exists() else REFERENCE_DIR
    reference = read_reference(source)
    ods_trusts = {t.code: t for t in trusts}
    trust_rows = reference.trusts.to_dicts()
    seen = set()
    for row in trust_rows:
        seen.add(row["trust_code"])
        org = ods_trusts.get(row["trust_code"])
        if org is not None and row["country"] == "England":
            if org.name.lower() != str(row["trust_name"]).lower():
                row["trust_name"] = title(org.name)
            row["postcode"] = org.postcode or row["postcode"]
    for org in trusts:
        if org.code not in seen and org.closed is None:
            trust_rows.append(
                {
                    "trust_code": org.code,
                    "trust_name": title(org.name),
                    "trust_type": None,
                    "region_code": org.region or None,
                    "country": "England",
                    "postcode": org.postcode or None,
                }
            )
    known = {row["trust_code"] for row in trust_rows}
    site_rows = reference.sites.to_dicts()
    by_code = {row["site_code"]: row for row in site_rows}
    for org in sites:
        row = by_code.get(org.code)
        if row is not None:
            if org.name.lower() != str(row["site_name"]).lower():
                row["site_name"] = title(org.name)
            row["postcode"] = org.postcode or row["postcode"]
            row["closed"] = org.closed or row["closed"]
        elif org.code[:3] in known and org.closed is None:
            # a site this project did not list: known now, so extracts naming it load; no units known
            site_rows.append(
                {
                    "site_code": org.code,
                    "site_name": title(org.name),
                    "trust_code": org.code[:3],
                    "postcode": org.postcode or None,
                    "country": "England",
                    **{unit: False for unit in HOSPITAL_UNITS},
                    "opened": org.opened if org.opened and org.opened > date(2019, 4, 1) else None,
                }
            )
    trusts_frame = pl.DataFrame(trust_rows, schema=reference.trusts.schema)
    sites_frame = pl.DataFrame(site_rows, schema=reference.sites.schema)
    staged = folder.with_name("reference.new")
    if staged.exists():
        shutil.rmtree(staged)
    shutil.copytree(source, staged, ignore=shutil.ignore_patterns("sources"))
    trusts_frame.write_csv(staged / "trusts.csv")
    sites_frame.with_columns(pl.col(c).cast(pl.String).str.to_lowercase() for c in HOSPITAL_UNITS).write_csv(
        staged / "sites.csv"
    )
    refreshed = read_reference(staged)  # the files as every later load will read them
    with rewrite(settings.store_path) as conn:
        install_reference(conn, refreshed)
        refresh_report_facts(conn)
    if folder.exists():
        shutil.rmtree(folder)
    staged.rename(folder)
    return folder

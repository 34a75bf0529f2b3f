"""Read data/reference/*.csv and copy them into the store's ``ref_*`` tables."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import date
from pathlib import Path

import duckdb
import polars as pl

from queries.codes import cdop_code_problem
from queries.mapping import CdopPeriod

BOOL_COLUMNS = ("nicu", "lnu", "scu", "picu", "ed", "maternity", "paediatric_ward")


@dataclass(frozen=True)
class Reference:
    regions: pl.DataFrame
    icbs: pl.DataFrame
    local_authorities: pl.DataFrame
    cdops: pl.DataFrame
    cdop_las: pl.DataFrame
    trusts: pl.DataFrame
    sites: pl.DataFrame
    footprint: pl.DataFrame


def _csv(path: Path) -> pl.DataFrame:
    return pl.read_csv(path, infer_schema=False)


def _dates(frame: pl.DataFrame, *columns: str) -> pl.DataFrame:
    return frame.with_columns(pl.col(c).str.to_date("%Y-%m-%d", strict=True) for c in columns)


def read_reference(folder: Path) -> Reference:
    cdops = _dates(_csv(folder / "cdops.csv"), "valid_from", "valid_to")
    _check_codes(cdops, folder / "cdops.csv")
    successors = dict(zip(cdops["cdop_code"], cdops["successor_code"], strict=True))
    cdops = cdops.with_columns(current_code=pl.Series([_current(code, successors) for code in cdops["cdop_code"]]))
    cdop_las = cdops.select("cdop_code", la_code=pl.col("la_codes").str.split(";")).explode("la_code")
    sites = _dates(_csv(folder / "sites.csv"), "opened", "closed").with_columns(
        pl.col("latitude", "longitude").cast(pl.Float64),
        *(pl.col(c) == "true" for c in BOOL_COLUMNS),
    )
    return Reference(
        regions=_csv(folder / "regions.csv"),
        icbs=_csv(folder / "icbs.csv"),
        local_authorities=_csv(folder / "local_authorities.csv"),
        cdops=cdops.drop("la_codes"),
        cdop_las=cdop_las,
        trusts=_csv(folder / "trusts.csv"),
        sites=sites,
        footprint=_dates(_csv(folder / "footprint.csv"), "valid_from", "valid_to"),
    )


def _check_codes(cdops: pl.DataFrame, path: Path) -> None:
    """The reference CDOPs seed the managed mapping: their codes obey the same
    rule as a merger's (no reserved word such as ENGLAND)."""
    named = [*cdops["cdop_code"], *(c for c in cdops["successor_code"] if c)]
    problems = [p for p in dict.fromkeys(cdop_code_problem(str(c or "")) for c in named) if p]
    if problems:
        raise ValueError(f"{path}: {problems[0]}")


def _current(code: str, successors: dict[str, str | None]) -> str:
    """Follow successor links (mergers, renames) to the CDOP in existence now."""
    seen = {code}
    while successors.get(code):
        code = str(successors[code])
        if code in seen:
            raise ValueError(f"CDOP successor links loop through {code}")
        seen.add(code)
    return code


def install_reference(conn: duckdb.DuckDBPyConnection, reference: Reference) -> None:
    """Replace every ``ref_*`` table's rows with ``reference`` (same transaction as the caller)."""
    for table, frame in (
        ("ref_regions", reference.regions),
        ("ref_icbs", reference.icbs),
        ("ref_local_authorities", reference.local_authorities),
        ("ref_cdops", reference.cdops),
        ("ref_cdop_las", reference.cdop_las),
        ("ref_trusts", reference.trusts),
        ("ref_sites", reference.sites),
        ("ref_footprint", reference.footprint),
    ):
        conn.execute(f"DELETE FROM {table}")
        conn.register("incoming_reference", frame)
        columns = ", ".join(frame.columns)
        conn.execute(f"INSERT INTO {table} ({columns}) SELECT {columns} FROM incoming_reference")
        conn.unregister("incoming_reference")


def with_managed_cdops(reference: Reference, managed: Sequence[CdopPeriod], today: date) -> Reference:
    """``reference`` knowing the CDOPs of the managed mapping (``python app.py mapping``):
    a CDOP formed by a merger is a valid reviewing CDOP in extracts, and every CDOP
    is named as it is called today (or was last called). One row per code, as before."""
    if not managed:
        return reference
    periods: dict[str, list[CdopPeriod]] = {}
    for period in managed:
        periods.setdefault(period.code, []).append(period)
    rows = {row["cdop_code"]: row for row in reference.cdops.to_dicts()}
    for code, spans in periods.items():
        spans.sort(key=lambda p: p.valid_from)
        named = next((p for p in spans if p.covers(today)), spans[-1])
        if code in rows:
            rows[code]["cdop_name"] = named.name
            continue
        open_ended = any(p.valid_to is None for p in spans)
        rows[code] = {
            "cdop_code": code,
            "cdop_name": named.name,
            "region_code": named.region_code,
            "valid_from": spans[0].valid_from,
            "valid_to": None if open_ended else max(p.valid_to for p in spans if p.valid_to),
            "successor_code": spans[-1].successor,
            "basis": spans[-1].basis,
        }
    successors = {code: row["successor_code"] for code, row in rows.items()}
    cdops = pl.DataFrame(
        [{**row, "current_code": _current(code, successors)} for code, row in rows.items()],
        schema=reference.cdops.schema,
    )
    return replace(reference, cdops=cdops)

"""Build the synthetic demo store (``python app.py demo``), or write it as an extract."""

from __future__ import annotations

import sys
from pathlib import Path

import duckdb
import polars as pl

from ingest import synth_calibration
from ingest.extract import ExtractUnusable
from ingest.loader import LoadSummary, load_rows
from ingest.reference import read_reference
from ingest.synth import child_populations, generate
from queries import codes
from queries.store import StoreUnavailable, open_readonly
from settings import PROJECT_DIR, REFERENCE_DIR, Settings

POPULATIONS = PROJECT_DIR / "data" / "synthetic" / "la_child_population.csv"
DEFAULT_SEED = 2026


def synthetic_extract(seed: int = DEFAULT_SEED, scale: float = 1.0) -> pl.DataFrame:
    return generate(read_reference(REFERENCE_DIR), child_populations(POPULATIONS), seed=seed, scale=scale)


def write_extract(path: Path, seed: int, scale: float) -> int:
    frame = synthetic_extract(seed, scale)
    path.parent.mkdir(parents=True, exist_ok=True)
    frame.write_csv(path)
    return frame.height


def build_demo_store(
    settings: Settings, *, seed: int = DEFAULT_SEED, scale: float = 1.0, replace: bool = False, progress: bool = True
) -> LoadSummary:
    """A fresh store of synthetic deaths. Refuses to overwrite real deaths unless ``replace``."""
    if not replace:
        _refuse_to_overwrite(settings.store_path)
    if progress:
        print(f"… generating synthetic deaths (scale {scale:g}, seed {seed})", file=sys.stderr, flush=True)
    frame = synthetic_extract(seed, scale)
    return load_rows(
        frame,
        settings,
        source_name=f"synthetic demo (seed {seed}, scale {scale:g})",
        source_sha256=None,
        replace=True,
        as_at=synth_calibration.AS_AT,
        progress=progress,
    )


def _refuse_to_overwrite(store: Path) -> None:
    """Demo data may replace demo data; anything else needs --replace."""
    if not store.exists():
        return
    try:
        conn = open_readonly(store)
    except StoreUnavailable as error:
        raise ExtractUnusable(f"{error}; pass --replace to overwrite it with demo data") from None
    try:
        row = conn.execute(
            "SELECT count(*) FILTER (WHERE NOT starts_with(case_id, ?)) FROM deaths", [codes.DEMO_CASE_PREFIX]
        ).fetchall()[0]
    except duckdb.Error:
        raise ExtractUnusable(
            f"cannot read the store at {store}; pass --replace to overwrite it with demo data"
        ) from None
    finally:
        conn.close()
    if row and row[0]:
        raise ExtractUnusable(f"the store at {store} holds real deaths; pass --replace to overwrite it with demo data")

"""Synthetic stores at a multiple of the national volume, built once and cached."""

from __future__ import annotations

import sys
from pathlib import Path

from ingest.demo import DEFAULT_SEED, build_demo_store
from queries.schema import SCHEMA_VERSION
from settings import load_settings

CACHE = Path(__file__).resolve().parent / "cache"


def store_dir(scale: float, seed: int = DEFAULT_SEED) -> Path:
    """A data directory holding a demo store at ``scale``; built on first use (100x takes minutes)."""
    # the schema version is in the name, so a changed schema never reuses an old store
    directory = CACHE / f"scale-{scale:g}-seed-{seed}-v{SCHEMA_VERSION}"
    if not (directory / "deaths.duckdb").exists():
        print(f"building the {scale:g}x store in {directory} (once)", file=sys.stderr, flush=True)
        build_demo_store(load_settings({"DATA_DIR": str(directory)}), seed=seed, scale=scale, progress=False)
    return directory

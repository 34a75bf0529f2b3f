"""`backup DIR` and `restore DIR`: both stores, the deaths store and the operational store, with a
manifest of their files' checksums and their tables' row counts.

A backup is taken while the app serves (each store's copy is a consistent snapshot of it). The
manifest is written last, so a backup cut short has none and is refused; restore checks every file
against it before touching anything, and every count after.
"""

from __future__ import annotations

import hashlib
import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import click

from commands.common import fail, first_line
from settings import load_settings

MANIFEST = "manifest.json"
FORMAT = 1
DEATHS_FILE = "deaths.duckdb"


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        while chunk := handle.read(1 << 20):
            digest.update(chunk)
    return digest.hexdigest()


def _described(folder: Path, name: str) -> dict[str, Any]:
    path = folder / name
    return {"file": name, "bytes": path.stat().st_size, "sha256": _sha256(path)}


@click.command()
@click.argument("folder", type=click.Path(file_okay=False, path_type=Path))
def backup(folder: Path) -> None:
    """Write a consistent copy of both stores, with a manifest, into FOLDER (new or empty)."""
    from sqlalchemy.exc import SQLAlchemyError

    from operational import dumps
    from operational import tables as operational
    from queries.store import StoreUnavailable, copy_store, row_counts

    settings = load_settings()
    if folder.exists() and any(folder.iterdir()):
        fail(f"{folder} is not empty: back up into a new folder")
    folder.mkdir(parents=True, exist_ok=True)
    try:
        copy_store(settings.store_path, folder / DEATHS_FILE)
        deaths_rows = row_counts(folder / DEATHS_FILE)
        made = dumps.dump(operational.connect(settings.operational_url), folder)
    except (StoreUnavailable, dumps.DumpFailed, SQLAlchemyError, OSError) as error:
        fail(f"no backup was made: {first_line(error)}")
    manifest = {
        "format": FORMAT,
        "made_at": datetime.now(UTC).isoformat(timespec="seconds"),
        "deaths_store": {**_described(folder, DEATHS_FILE), "rows": deaths_rows},
        "operational_store": {
            **_described(folder, made.file),
            "kind": made.kind,
            "revision": made.revision,
            "rows": made.rows,
        },
    }
    draft = folder / f".{MANIFEST}.draft"
    draft.write_text(json.dumps(manifest, indent=2, sort_keys=True) + "\n")
    draft.replace(folder / MANIFEST)  # last: a folder without it is a backup cut short
    deaths, users = sum(deaths_rows.values()), made.rows.get("users", 0)
    click.echo(f"backed up the deaths store ({deaths} rows) and the {made.kind} operational store ({users} users)")


def _checked_manifest(folder: Path) -> dict[str, Any]:
    """The backup's manifest, every file in it present and matching; else a one-line refusal."""
    path = folder / MANIFEST
    if not path.is_file():
        fail(f"{folder} holds no {MANIFEST}: not a backup, or one cut short; nothing was restored")
    try:
        manifest = json.loads(path.read_text())
        parts = [manifest["deaths_store"], manifest["operational_store"]]
        if manifest["format"] != FORMAT:
            fail(f"{MANIFEST} is of format {manifest['format']}, this app reads {FORMAT}; nothing was restored")
        for part in parts:
            file = folder / Path(part["file"]).name
            if not file.is_file():
                fail(f"the backup is incomplete: {part['file']} is missing; nothing was restored")
            if file.stat().st_size != part["bytes"] or _sha256(file) != part["sha256"]:
                fail(f"the backup is damaged: {part['file']} does not match its checksum; nothing was restored")
    except (ValueError, KeyError, TypeError):
        fail(f"{MANIFEST} cannot be read; nothing was restored")
    return manifest


@click.command()
@click.argument("folder", type=click.Path(file_okay=False, path_type=Path))
def restore(folder: Path) -> None:
    """Put both stores back from a backup in FOLDER, after checking it whole. Stop the app first."""
    from sqlalchemy.exc import SQLAlchemyError

    from operational import dumps
    from operational import tables as operational
    from queries.store import StoreUnavailable, install_store, row_counts

    settings = load_settings()
    manifest = _checked_manifest(folder)
    deaths, ops = manifest["deaths_store"], manifest["operational_store"]
    if wrong := _counts_differ(row_counts(folder / Path(deaths["file"]).name), deaths["rows"]):
        fail(f"the backup's deaths store does not hold the rows its manifest says ({wrong}); nothing was restored")
    made = dumps.Dump(ops["kind"], Path(ops["file"]).name, ops["revision"], ops["rows"])
    try:
        # the operational store first: a backup of the other kind is refused before anything changes
        restored = dumps.restore(operational.connect(settings.operational_url), folder, made)
        install_store(settings.store_path, folder / Path(deaths["file"]).name)
    except (StoreUnavailable, dumps.DumpFailed, SQLAlchemyError, OSError) as error:
        fail(f"the restore failed: {first_line(error)}")
    if wrong := _counts_differ(restored, made.rows):
        fail(f"the operational store was restored but its rows differ from the manifest's ({wrong})")
    click.echo(f"restored the deaths store and the {made.kind} operational store from {folder}")


def _counts_differ(found: dict[str, int], expected: dict[str, int]) -> str:
    """The tables whose counts differ, as 'name found of expected', or ''."""
    return ", ".join(
        f"{name} {found.get(name, 0)} of {count}" for name, count in expected.items() if found.get(name, 0) != count
    )

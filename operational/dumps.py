"""A consistent copy of the operational store taken while the app serves, and putting one back.

SQLite: SQLite's own online backup (a snapshot however many workers write meanwhile), into a file.
PostgreSQL: ``pg_dump`` (custom format) of one snapshot, whose row counts are read in that very
snapshot, so the counts always describe the dump. ``pg_restore`` puts it back in one transaction.
"""

from __future__ import annotations

import glob
import os
import shutil
import sqlite3
import subprocess
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy import Engine, text
from sqlalchemy.engine import make_url

from operational import schema
from operational.copying import row_counts
from operational.database import engine_for


class DumpFailed(RuntimeError):
    """A dump or a restore could not be made, in one line."""


@dataclass(frozen=True)
class Dump:
    kind: str  # "sqlite" or "postgresql"
    file: str  # its name in the backup's folder
    revision: str | None  # the store's migration
    rows: dict[str, int]


def dump(engine: Engine, folder: Path) -> Dump:
    """Write the store into ``folder``; what was written, with its row counts."""
    if engine.dialect.name == "sqlite":
        return _dump_sqlite(engine, folder)
    return _dump_postgresql(engine, folder)


def restore(engine: Engine, folder: Path, made: Dump) -> dict[str, int]:
    """Replace the store's contents with the dump ``made`` in ``folder``; the row counts then."""
    if made.kind != engine.dialect.name:
        raise DumpFailed(
            f"this backup holds a {made.kind} operational store and OPERATIONAL_DB_URL names a "
            f"{engine.dialect.name} one: restore it into a {made.kind} store, then `python app.py operational copy`"
        )
    if made.kind == "sqlite":
        with sqlite3.connect(folder / made.file) as source, sqlite3.connect(str(engine.url.database)) as live:
            source.backup(live)  # page by page into the live file, WAL and all, under SQLite's own locks
    else:
        _pg_tool(
            engine, "pg_restore", "--clean", "--if-exists", "--no-owner", "--no-privileges", "--single-transaction",
            str(folder / made.file),
        )  # fmt: skip
    engine.dispose()  # connections opened before hold stale plans of dropped tables
    with engine.connect() as db:
        return row_counts(db)


def _dump_sqlite(engine: Engine, folder: Path) -> Dump:
    name = "operational.sqlite"
    with sqlite3.connect(str(engine.url.database)) as live, sqlite3.connect(folder / name) as copy:
        live.backup(copy)
    copy_engine = engine_for(f"sqlite:///{folder / name}")
    try:
        with copy_engine.connect() as db:
            made = Dump("sqlite", name, schema.current(db), row_counts(db))
    finally:
        copy_engine.dispose()
    for leftover in folder.glob(f"{name}-*"):  # the copy's own WAL files, emptied when it closed
        leftover.unlink()
    return made


def _dump_postgresql(engine: Engine, folder: Path) -> Dump:
    name = "operational.pgdump"
    with engine.connect() as db:
        db.execute(text("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ, READ ONLY"))
        snapshot = db.execute(text("SELECT pg_export_snapshot()")).scalar_one()
        rows, revision = row_counts(db), schema.current(db)
        # the snapshot lives as long as this transaction: pg_dump reads exactly what was counted
        _pg_tool(engine, "pg_dump", "--format=custom", f"--snapshot={snapshot}", f"--file={folder / name}")
        db.rollback()
    return Dump("postgresql", name, revision, rows)


def _pg_tool(engine: Engine, program: str, *args: str) -> None:
    url = make_url(engine.url)
    env = {
        **os.environ,
        "PGHOST": url.host or "localhost",
        "PGPORT": str(url.port or 5432),
        "PGUSER": url.username or "",
        "PGPASSWORD": url.password or "",  # in its environment, not on a command line others can read
        "PGDATABASE": url.database or "",
    }
    result = subprocess.run(  # noqa: S603 - PostgreSQL's own program, with arguments made here
        [_program(program), *args, *(["--dbname", url.database or ""] if program == "pg_restore" else [])],
        env=env, capture_output=True, text=True, check=False, timeout=3600,
    )  # fmt: skip
    if result.returncode != 0:
        said = (result.stderr or result.stdout).strip().splitlines()
        raise DumpFailed(f"{program} failed: {said[-1] if said else f'exit status {result.returncode}'}")


def _program(name: str) -> str:
    """PostgreSQL's client program ``name``: the newest Debian keeps (off the PATH), else the PATH's."""
    found = sorted(glob.glob(f"/usr/lib/postgresql/*/bin/{name}"), key=lambda p: int(Path(p).parts[-3]))
    if found:
        return found[-1]
    on_path = shutil.which(name)
    if on_path is None:
        raise DumpFailed(f"{name} is not installed (Debian's postgresql-client package)")
    return on_path

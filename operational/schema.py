"""The operational store's tables are made and upgraded by versioned migrations (Alembic), in
``operational/migrations/versions``, one file per change, never by ``create_all``.

Every process that opens the store brings it to the newest version first. Two workers, or two
hosts, starting together take a lock for it (PostgreSQL: an advisory lock held by the migrating
transaction; SQLite: a lock file beside the database), so one migrates and the other then finds
nothing left to do.
"""

from __future__ import annotations

import fcntl
import functools
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Connection, Engine, MetaData, text

from operational.database import engine_for, is_postgresql

MIGRATIONS = Path(__file__).resolve().parent / "migrations"
# any fixed number: PostgreSQL's advisory locks are named by integers, shared by every database of a server
_ADVISORY_LOCK = 7_203_320_001


def config(connection: Connection | None = None) -> Config:
    """Alembic's configuration, made here (the project keeps no alembic.ini): the migrations'
    folder, and the connection they run on."""
    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS))
    cfg.attributes["connection"] = connection
    return cfg


@functools.cache
def head() -> str:
    """The newest migration's revision (read from the files once per process)."""
    revision = ScriptDirectory.from_config(config()).get_current_head()
    if revision is None:
        raise RuntimeError("the operational store has no migrations")
    return revision


def current(db: Connection) -> str | None:
    """The revision the store is at (None before its first migration)."""
    return MigrationContext.configure(db).get_current_revision()


def upgrade(engine: Engine) -> None:
    """Bring the store to the newest revision (nothing to do, and no lock taken, when it is there)."""
    with engine.connect() as db:
        if current(db) == head():
            return
    with _migration_lock(engine), engine.connect() as db:
        if is_postgresql(db):
            # held until this transaction commits, migrations and all (PostgreSQL's DDL is transactional)
            db.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": _ADVISORY_LOCK})
        command.upgrade(config(db), "head")
        db.commit()


@contextmanager
def _migration_lock(engine: Engine) -> Iterator[None]:
    """For SQLite, an exclusive lock on a file beside the database (one host, many processes);
    PostgreSQL locks inside the migrating transaction instead."""
    path = engine.url.database if engine.dialect.name == "sqlite" else None
    if not path or path == ":memory:":
        yield
        return
    with open(f"{path}.migrate-lock", "a") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


class NothingToMigrate(ValueError):
    """The tables and the migrations already agree."""


def write_migration(message: str, metadata: MetaData, folder: Path = MIGRATIONS) -> Path:
    """Write the migration from the newest revision to ``metadata`` (what ``operational/tables.py``
    says now) into ``folder``'s versions, numbered after the newest, and return its file: to read
    and adjust before committing (Alembic writes what it can see; a renamed column, say, shows as
    one dropped and one added)."""
    with tempfile.TemporaryDirectory() as scratch:
        engine = engine_for(f"sqlite:///{Path(scratch) / 'operational.sqlite'}")
        with engine.connect() as db:
            cfg = config(db)
            cfg.set_main_option("script_location", str(folder))
            cfg.attributes["metadata"] = metadata
            command.upgrade(cfg, "head")
            db.commit()
            if not compare_metadata(MigrationContext.configure(db, opts={"compare_type": True}), metadata):
                raise NothingToMigrate("operational/tables.py and the migrations already agree: nothing to write")
            newest = ScriptDirectory.from_config(cfg).get_current_head() or "0000"
            written = command.revision(cfg, message=message, autogenerate=True, rev_id=f"{int(newest) + 1:04d}")
        engine.dispose()
    assert written is not None and not isinstance(written, list)
    return Path(written.path)

"""Engines for the operational store: SQLite by default, PostgreSQL (through psycopg 3) when
several hosts share it. What differs between the two is kept here, nowhere else."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from sqlalchemy import Connection, Engine, Table, create_engine, event, func, select, text
from sqlalchemy.engine import make_url
from sqlalchemy.exc import DisconnectionError, InterfaceError, OperationalError, SQLAlchemyError
from sqlalchemy.exc import TimeoutError as PoolTimeout

# What the store answers when it cannot be reached (its server stopped, restarting, too busy, a
# SQLite file locked too long): the app answers 503 and carries on, taking it up again when it is back.
UNAVAILABLE: tuple[type[Exception], ...] = (OperationalError, InterfaceError, DisconnectionError, PoolTimeout)


def engine_for(url: str) -> Engine:
    """An engine for ``url`` (no tables made: ``operational.schema.upgrade`` does that).
    SQLite gets WAL and a busy timeout so that several workers can write without 'database is
    locked'; PostgreSQL gets connections checked before use, so that a request after the server
    came back finds a live one rather than one the restart broke."""
    if is_sqlite_url(url):
        engine = create_engine(url, connect_args={"timeout": 10, "check_same_thread": False})

        @event.listens_for(engine, "connect")
        def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
            cursor = dbapi_connection.cursor()
            cursor.execute("PRAGMA journal_mode=WAL")
            # with WAL, NORMAL loses nothing if the app crashes (only the last
            # commits on power loss) and spares an fsync on every page view's audit row
            cursor.execute("PRAGMA synchronous=NORMAL")
            cursor.execute("PRAGMA foreign_keys=ON")
            cursor.execute("PRAGMA busy_timeout=10000")
            cursor.close()

        return engine
    # connect_timeout: a server that does not answer fails the request in seconds (a 503), not minutes
    return create_engine(url, pool_pre_ping=True, pool_size=5, max_overflow=5, connect_args={"connect_timeout": 5})


def is_sqlite_url(url: str) -> bool:
    return url.startswith("sqlite")


def is_postgresql(db: Connection | Engine) -> bool:
    return db.dialect.name == "postgresql"


def sqlite_path(url: str) -> str | None:
    """The file of a SQLite URL (None for another kind, or an in-memory database)."""
    if not is_sqlite_url(url):
        return None
    return make_url(url).database or None


def sync_sequences(db: Connection, tables: Iterable[Table]) -> None:
    """After rows were written with their ids given (a seed's fixed id, a copy, a restore), move each
    PostgreSQL id sequence past the largest id, so the next row it numbers is free. SQLite numbers
    from the largest id by itself."""
    if not is_postgresql(db):
        return
    for table in tables:
        for column in table.primary_key.columns:
            sequence = db.execute(
                text("SELECT pg_get_serial_sequence(:table, :column)"), {"table": table.name, "column": column.name}
            ).scalar()
            if sequence is None:  # not numbered by a sequence (a text key, a pair of ids)
                continue
            highest = db.execute(select(func.max(column))).scalar()
            # is_called false for an empty table: the next id is then 1
            db.execute(
                text("SELECT setval(:sequence, :value, :called)"),
                {"sequence": sequence, "value": highest or 1, "called": highest is not None},
            )


def display_url(url: str) -> str:
    """The URL with its password hidden, for messages and logs."""
    return make_url(url).render_as_string(hide_password=True)


def reachable(engine: Engine) -> bool:
    """Whether the store answers a trivial query now."""
    try:
        with engine.connect() as db:
            db.execute(select(1))
    except SQLAlchemyError:
        return False
    return True

"""The operational store: users, their CDOP grants, "last visit" marks and the audit log.

Written on every request, so it is kept out of the DuckDB deaths store. SQLite
by default; any SQLAlchemy URL (PostgreSQL when several machines serve the
app) works, since only portable SQLAlchemy Core is used.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import (
    JSON,
    Boolean,
    Column,
    DateTime,
    Engine,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    String,
    Table,
    create_engine,
    event,
)

metadata = MetaData()

users = Table(
    "users",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("username", String(64), nullable=False, unique=True),
    Column("password_hash", String(255), nullable=False),
    Column("role", String(10), nullable=False),  # "cdop" or "admin"
    Column("active", Boolean, nullable=False, default=True),
    Column("demo", Boolean, nullable=False, default=False),
    Column("created_at", DateTime, nullable=False),
)

user_cdops = Table(
    "user_cdops",
    metadata,
    Column("user_id", Integer, ForeignKey("users.id", ondelete="CASCADE"), primary_key=True),
    Column("cdop_code", String(10), primary_key=True),
)

sessions = Table(
    "sessions",
    metadata,
    Column("token_hash", String(64), primary_key=True),  # sha256 of the token in the signed cookie
    Column("user_id", Integer, ForeignKey("users.id", ondelete="CASCADE"), nullable=False, index=True),
    Column("created_at", DateTime, nullable=False),
    Column("last_seen_at", DateTime, nullable=False),
    Column("ended_at", DateTime),
    Column("ended_reason", String(20)),
)

# Each user's "last visit": deaths that entered the deaths store after
# ``seen_up_to`` are new to them. Set at their first visit, moved only when
# they mark the "What's new" list as seen.
visit_marks = Table(
    "visit_marks",
    metadata,
    Column("user_id", Integer, ForeignKey("users.id", ondelete="CASCADE"), primary_key=True),
    Column("seen_up_to", DateTime, nullable=False),  # UTC, a load's finish time
    Column("marked_at", DateTime, nullable=False),  # UTC, when the mark was last set
)

audit_log = Table(
    "audit_log",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("at", DateTime, nullable=False, index=True),
    Column("username", String(64)),
    Column("event", String(40), nullable=False, index=True),
    Column("detail", JSON, nullable=False),
    Column("remote_addr", String(64), index=True),
    Index("audit_user_time", "username", "at"),
)


def connect(url: str) -> Engine:
    """An engine with its tables created. SQLite gets WAL and a busy timeout so
    that several workers can write without 'database is locked' errors."""
    options: dict[str, Any] = {"future": True}
    if url.startswith("sqlite"):
        options["connect_args"] = {"timeout": 10, "check_same_thread": False}
    engine = create_engine(url, **options)
    if url.startswith("sqlite"):

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

    metadata.create_all(engine)
    return engine

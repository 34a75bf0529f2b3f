"""The operational store: users, their CDOP grants, "last visit" marks, the audit log, the
trust-to-CDOP mapping's history, the e-mail digest's subscriptions and saved views.

Written on every request, so it is kept out of the DuckDB deaths store. SQLite
by default, PostgreSQL when several machines serve the app (``OPERATIONAL_DB_URL``);
only portable SQLAlchemy Core is used.

A new table (or column) here needs a migration too: ``python app.py operational
new-migration "what it adds"`` writes one into ``operational/migrations/versions``
(see README, "The operational store"); a test fails while the two disagree.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    Column,
    Date,
    DateTime,
    Engine,
    Float,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    ScalarSelect,
    String,
    Table,
    func,
    select,
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


# Users whose password an administrator reset: they must choose a new one at
# their next sign-in (a table of its own, so existing stores need no migration).
password_changes_due = Table(
    "password_changes_due",
    metadata,
    Column("user_id", Integer, ForeignKey("users.id", ondelete="CASCADE"), primary_key=True),
    Column("since", DateTime, nullable=False),
)

# The trust-to-CDOP mapping as managed history (footprints.store). Rows
# are never edited: a change retires rows (``retired_by``) and adds new ones,
# both naming the revision that did it, so every earlier state can be rebuilt.
mapping_revisions = Table(
    "mapping_revisions",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("at", DateTime, nullable=False),
    Column("username", String(64), nullable=False),
    Column("kind", String(20), nullable=False),  # seed, move, merge, rename, import
    Column("effective_from", Date),
    Column("reason", String(2000), nullable=False),
    Column("detail", JSON, nullable=False),
)


def revision_column() -> ScalarSelect[Any]:
    """The mapping's version (its latest revision's id, None before it is
    seeded), as a column another statement can carry. Here, beside its table,
    because every request reads it with the session (``operational.signed_in``)."""
    return select(func.max(mapping_revisions.c.id)).scalar_subquery()


mapping_cdops = Table(
    "mapping_cdops",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("cdop_code", String(10), nullable=False, index=True),
    Column("cdop_name", String(200), nullable=False),
    Column("region_code", String(10)),
    Column("la_codes", String(4000), nullable=False),  # ';'-separated GSS codes
    Column("valid_from", Date, nullable=False),
    Column("valid_to", Date),
    Column("successor_code", String(10)),
    Column("basis", String(20)),
    Column("added_by", Integer, ForeignKey("mapping_revisions.id"), nullable=False),
    Column("retired_by", Integer, ForeignKey("mapping_revisions.id"), index=True),
)

mapping_footprint = Table(
    "mapping_footprint",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("trust_code", String(10), nullable=False, index=True),
    Column("cdop_code", String(10), nullable=False, index=True),
    Column("valid_from", Date, nullable=False),
    Column("valid_to", Date),
    Column("added_by", Integer, ForeignKey("mapping_revisions.id"), nullable=False),
    Column("retired_by", Integer, ForeignKey("mapping_revisions.id"), index=True),
)

# Each user's e-mail digest (digest/): where it goes, whether that address is
# verified, how often, and the user's own digest mark. A table of its own, keyed
# by user, so the users table is untouched and a user's digest goes with them.
digest_subscriptions = Table(
    "digest_subscriptions",
    metadata,
    Column("user_id", Integer, ForeignKey("users.id", ondelete="CASCADE"), primary_key=True),
    Column("email", String(254)),
    Column("verified_at", DateTime),  # UTC; None until the current address's link is followed
    Column("link_sent_at", DateTime),  # UTC, the latest verification link sent (resends are spaced)
    Column("frequency", String(10), nullable=False),  # off, daily or weekly
    Column("when_empty", Boolean, nullable=False, default=False),  # weekly even when nothing is new
    # deaths that entered the deaths store after this moment (a load's finish time, UTC) are
    # not yet digested; moved only once the mail server accepted the digest that counted them
    Column("digest_mark", DateTime),
    Column("last_sent_at", DateTime),  # UTC, when the latest digest was accepted
    Column("claimed_at", DateTime),  # UTC, a run sending this user's digest now (two runs never both send)
    Column("updated_at", DateTime, nullable=False),
)

# Each user's saved views (operational.saved_views): a page and its query under a name. A row with
# ``shared_cdop`` is an administrator's copy offered to every user of that CDOP ("Shared by NCMD").
# The query is kept as saved and cleaned against the user's scope each time it is opened.
saved_views = Table(
    "saved_views",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("user_id", Integer, ForeignKey("users.id", ondelete="CASCADE"), nullable=False, index=True),
    Column("name", String(80), nullable=False),
    Column("path", String(40), nullable=False),
    Column("query", String(4000), nullable=False),
    Column("shared_cdop", String(10), index=True),
    Column("created_at", DateTime, nullable=False),
    Column("updated_at", DateTime, nullable=False),
)

# Counters of the per-user request limits (operational.limit_store), shared by
# every worker: one row per user and limit, reused when its window has passed.
rate_limits = Table(
    "rate_limits",
    metadata,
    Column("key", String(255), primary_key=True),
    Column("hits", BigInteger, nullable=False),
    Column("expires_at", Float, nullable=False),  # seconds since the epoch, as the `limits` library counts
)


def connect(url: str) -> Engine:
    """An engine for the store at ``url``, its tables brought to the newest migration first
    (``operational.schema``: safe when several workers or hosts start together)."""
    from operational import database, schema  # the migrations' env.py imports this module

    engine = database.engine_for(url)
    schema.upgrade(engine)
    return engine

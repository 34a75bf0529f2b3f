"""An operational store with a row in every table, made through the app's own functions, and the
whole of a store read back for comparing two of them (copies, backups)."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from typing import Any

import duckdb
from sqlalchemy import Engine, select

from footprints import changes as mapping_changes
from footprints import store as mapping_store
from operational import accounts, audit, digests, saved_views, sessions, visits
from operational.limit_store import OperationalStorage
from operational.tables import metadata


def fill(engine: Engine, deaths: duckdb.DuckDBPyConnection) -> None:
    """Users and grants, a session, a visit mark, audit events, a password change due, the mapping
    seeded and then merged (a second revision), a rate-limit counter, a digest subscription and a
    saved view."""
    nurse = accounts.add_user(engine, "llr.nurse", "a long enough password", "cdop", ["LLR", "NHAM"])
    accounts.add_user(engine, "ncmd.analyst", "another long password", "admin")
    accounts.add_user(engine, "to.reset", "yet another password", "cdop", ["NCL"])
    accounts.reset_password(engine, "to.reset")
    sessions.start(engine, nurse.id)
    visits.mark_of(engine, nurse.id, lambda: datetime(2026, 1, 2, 3, 4, 5, 678901))
    audit.record(engine, "login", "llr.nurse", "192.0.2.1", page="/", filters={"fy": ["2024"]})
    audit.record(engine, "login_failed", "llr.nurse", "192.0.2.2")
    current = mapping_store.MappingSource(engine).current(deaths)
    later = date.today() + timedelta(days=40)
    merged = mapping_changes.merge_cdops(current, ["LLR", "NHAM"], "EMCD", "East Midlands CDOP", later, date.today())
    mapping_store.apply(
        engine, current, merged, username="admin", kind="merge", effective_from=later, reason="a test", detail={}
    )
    OperationalStorage(engine=engine).incr("LIMITER/cdop/user-1/download:downloads/20/1/minute", 60)
    digests.subscribe(engine, nurse.id, "nurse@example.nhs.uk", "weekly")
    saved_views.save(engine, nurse.id, "Our panel pack", "/reviews", "?window=5")


def contents(engine: Engine) -> dict[str, list[tuple[Any, ...]]]:
    """Every row of every table, in primary-key order."""
    with engine.connect() as db:
        return {
            table.name: [tuple(row) for row in db.execute(select(table).order_by(*table.primary_key.columns))]
            for table in metadata.sorted_tables
        }

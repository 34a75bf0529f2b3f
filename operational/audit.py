"""The append-only audit log: who did what, when, with which filters."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sqlalchemy import Engine, insert, select

from operational.tables import audit_log

_INSERT = insert(audit_log)  # built once: every page view writes a row


def record(engine: Engine, event: str, username: str | None, remote_addr: str | None = None, **detail: Any) -> None:
    row = {
        "at": datetime.now(UTC).replace(tzinfo=None),
        "username": username,
        "event": event,
        "detail": detail,
        "remote_addr": remote_addr,
    }
    with engine.begin() as db:
        db.execute(_INSERT, row)


def recent(engine: Engine, limit: int = 200, event: str | None = None) -> list[dict[str, Any]]:
    query = select(audit_log).order_by(audit_log.c.id.desc()).limit(limit)
    if event:
        query = query.where(audit_log.c.event == event)
    with engine.connect() as db:
        return [dict(row) for row in db.execute(query).mappings()]

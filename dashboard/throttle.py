"""Login throttling, counted in the audit log so that every worker (and every
machine sharing the operational store) sees the same failures."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from sqlalchemy import Engine, func, or_, select

from dashboard.operational import audit_log

WINDOW = timedelta(minutes=15)
MAX_FAILURES = 5


def blocked(engine: Engine, username: str, remote_addr: str | None) -> bool:
    """True once this username, or this address, has failed MAX_FAILURES times in WINDOW."""
    since = datetime.now(UTC).replace(tzinfo=None) - WINDOW
    who = [audit_log.c.username == username] if username else []
    if remote_addr:
        who.append(audit_log.c.remote_addr == remote_addr)
    if not who:
        return False
    query = (
        select(audit_log.c.username, audit_log.c.remote_addr, func.count())
        .where((audit_log.c.event == "login_failed") & (audit_log.c.at >= since) & or_(*who))
        .group_by(audit_log.c.username, audit_log.c.remote_addr)
    )
    by_user = by_address = 0
    with engine.connect() as db:
        for name, address, count in db.execute(query):
            if username and name == username:
                by_user += count
            if remote_addr and address == remote_addr:
                by_address += count
    return by_user >= MAX_FAILURES or by_address >= MAX_FAILURES

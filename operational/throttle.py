"""Sign-in throttling, counted in the audit log so that every worker (and every
machine sharing the operational store) sees the same failures.

Two rules, chosen so that nobody can lock someone else out:

- An address that failed ``MAX_FAILURES`` times within ``WINDOW`` (for any
  usernames) is refused until its failures age out of the window.
- A username that failed ``MAX_FAILURES`` times within ``WINDOW`` (from any
  addresses) is slowed, not locked: from then on, each attempt from an
  address that is not one of the user's usual ones must wait for a delay
  that doubles with every further failure (1 s, 2 s, 4 s, ... up to
  ``MAX_DELAY``) after the latest failure. A usual address is one this user
  signed in from successfully within ``USUAL_ADDRESS_DAYS``: there the user
  signs in as always, whatever others try from elsewhere.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from sqlalchemy import Connection, Engine, func, or_, select

from operational.tables import audit_log

WINDOW = timedelta(minutes=15)
MAX_FAILURES = 5
MAX_DELAY = timedelta(minutes=15)
USUAL_ADDRESS_DAYS = 90


@dataclass(frozen=True)
class Refusal:
    """Why a sign-in attempt is refused before its password is looked at, and for how long."""

    reason: str  # "address" or "username"
    retry_after: int  # whole seconds, at least 1


def _now() -> datetime:
    return datetime.now(UTC).replace(tzinfo=None)


def delay_after(failures: int) -> timedelta:
    """How long a username that failed ``failures`` times waits between attempts from an unfamiliar address."""
    if failures < MAX_FAILURES:
        return timedelta(0)
    return min(timedelta(seconds=2 ** min(failures - MAX_FAILURES, 20)), MAX_DELAY)


def _seconds(delta: timedelta) -> int:
    return max(1, int(delta.total_seconds() + 0.999))


def check(engine: Engine, username: str, remote_addr: str | None) -> Refusal | None:
    """None if this attempt may go ahead; else why not, and when to try again."""
    now = _now()
    since = now - WINDOW
    who = [audit_log.c.username == username] if username else []
    if remote_addr:
        who.append(audit_log.c.remote_addr == remote_addr)
    if not who:
        return None
    failures = (
        select(
            audit_log.c.username,
            audit_log.c.remote_addr,
            func.count(),
            func.min(audit_log.c.at),
            func.max(audit_log.c.at),
        )
        .where((audit_log.c.event == "login_failed") & (audit_log.c.at >= since) & or_(*who))
        .group_by(audit_log.c.username, audit_log.c.remote_addr)
    )
    by_user = by_address = 0
    address_oldest: datetime | None = None
    user_latest: datetime | None = None
    with engine.connect() as db:
        for name, address, count, oldest, latest in db.execute(failures):
            if username and name == username:
                by_user += count
                user_latest = latest if user_latest is None else max(user_latest, latest)
            if remote_addr and address == remote_addr:
                by_address += count
                address_oldest = oldest if address_oldest is None else min(address_oldest, oldest)
        if by_address >= MAX_FAILURES and address_oldest is not None:
            return Refusal("address", _seconds(address_oldest + WINDOW - now))
        if by_user < MAX_FAILURES or user_latest is None:
            return None
        wait = user_latest + delay_after(by_user) - now
        if wait <= timedelta(0) or _usual_address(db, username, remote_addr, now):
            return None
    return Refusal("username", _seconds(wait))


def _usual_address(db: Connection, username: str, remote_addr: str | None, now: datetime) -> bool:
    """Whether this user has signed in successfully from this address recently."""
    if not remote_addr:
        return False
    found = db.execute(
        select(audit_log.c.id)
        .where(
            (audit_log.c.event == "login")
            & (audit_log.c.username == username)
            & (audit_log.c.remote_addr == remote_addr)
            & (audit_log.c.at >= now - timedelta(days=USUAL_ADDRESS_DAYS))
        )
        .limit(1)
    ).first()
    return found is not None


def blocked(engine: Engine, username: str, remote_addr: str | None) -> bool:
    """True when ``check`` would refuse this attempt."""
    return check(engine, username, remote_addr) is not None

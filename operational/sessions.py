"""Server-side sessions: what the signed cookie names, the operational store decides.

The cookie only carries a random token. A session ends when the user signs
out, has been idle too long, reaches its absolute lifetime, or is disabled:
from then on the same cookie is worth nothing, even if someone copied it.
A new token is issued at every sign-in, so a session id is never reused.
"""

from __future__ import annotations

import hashlib
import secrets
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import Engine, insert, update

from operational.tables import sessions

TOUCH_EVERY = timedelta(seconds=60)  # how often last_seen is written (not on every request)


@dataclass(frozen=True)
class SessionPolicy:
    idle: timedelta
    lifetime: timedelta


def _now() -> datetime:
    return datetime.now(UTC).replace(tzinfo=None)


def _hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def start(engine: Engine, user_id: int) -> str:
    """A new session for this user; returns the token to put in the cookie."""
    token = secrets.token_urlsafe(32)
    now = _now()
    with engine.begin() as db:
        db.execute(insert(sessions).values(token_hash=_hash(token), user_id=user_id, created_at=now, last_seen_at=now))
    return token


def session_key(token: str) -> str | None:
    """What the store keeps of a cookie's token; None for a value that cannot be one."""
    if not token or len(token) > 100:
        return None
    return _hash(token)


def settle(engine: Engine, key: str, row: Mapping[str, Any], policy: SessionPolicy) -> bool:
    """Whether the session read as ``row`` (its created_at, last_seen_at and
    ended_at) is live now: ended here if it has just expired, and its
    last_seen refreshed now and then."""
    now = _now()
    if row["ended_at"] is not None:
        return False
    expired = "idle" if now - row["last_seen_at"] > policy.idle else None
    expired = expired or ("lifetime" if now - row["created_at"] > policy.lifetime else None)
    if expired:
        _end_key(engine, key, expired)
        return False
    if now - row["last_seen_at"] > TOUCH_EVERY:
        with engine.begin() as db:
            db.execute(update(sessions).where(sessions.c.token_hash == key).values(last_seen_at=now))
    return True


def end(engine: Engine, token: str, reason: str) -> None:
    _end_key(engine, _hash(token), reason)


def _end_key(engine: Engine, key: str, reason: str) -> None:
    with engine.begin() as db:
        db.execute(
            update(sessions)
            .where((sessions.c.token_hash == key) & sessions.c.ended_at.is_(None))
            .values(ended_at=_now(), ended_reason=reason)
        )


def end_all(engine: Engine, user_id: int, reason: str) -> None:
    """End every session of a user (disabled, password changed, CDOP revoked)."""
    with engine.begin() as db:
        db.execute(
            update(sessions)
            .where((sessions.c.user_id == user_id) & sessions.c.ended_at.is_(None))
            .values(ended_at=_now(), ended_reason=reason)
        )

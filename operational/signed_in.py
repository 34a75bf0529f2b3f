"""Who is asking: what every request needs from the operational store, read in one statement.

The cookie's session, its user with their CDOP grants, and the version of the
trust-to-CDOP mapping come back together. Read one by one they were five
statements on three connections, a visible share of every filter change.
Nothing here is cached between requests: a disabled user, a revoked grant or
a new mapping takes effect on the very next request, in every worker.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import Engine, bindparam

from operational import sessions
from operational.accounts import User, user_from_rows, user_select
from operational.tables import revision_column, users
from operational.tables import sessions as session_rows

# built once: making a statement this size costs more than running it
_ASKING = (
    user_select()
    .add_columns(
        session_rows.c.created_at,  # the user's columns (user_select) hold no name of these
        session_rows.c.last_seen_at,
        session_rows.c.ended_at,
        revision_column().label("mapping_version"),
    )
    .join(session_rows, session_rows.c.user_id == users.c.id)
    .where(session_rows.c.token_hash == bindparam("key"))
)


@dataclass(frozen=True)
class Asking:
    user: User
    mapping_version: int | None  # the mapping's latest revision as this request began


def resume(engine: Engine, token: str, policy: sessions.SessionPolicy) -> Asking | None:
    """The user of a live session and the mapping's version; None when the
    token names no live session (a session that has just expired is ended)."""
    key = sessions.session_key(token)
    if key is None:
        return None
    with engine.connect() as db:
        rows = db.execute(_ASKING, {"key": key}).mappings().all()
    user = user_from_rows(rows)
    if user is None:
        return None
    if not sessions.settle(engine, key, rows[0], policy):
        return None
    return Asking(user=user, mapping_version=rows[0]["mapping_version"])

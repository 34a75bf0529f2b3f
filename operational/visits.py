"""Each user's "last visit" mark, kept in the operational store.

The mark is a moment in the deaths store's history (the finish time of the
newest load the user has been shown), not a wall-clock time: a death is new to
a user until they mark the list that showed it as seen. Opening pages does not
move the mark, so glancing at the dashboard never hides a death.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime

from sqlalchemy import Engine, insert, select, update
from sqlalchemy.exc import IntegrityError

from operational.tables import visit_marks


def _now() -> datetime:
    return datetime.now(UTC).replace(tzinfo=None)


def mark_of(engine: Engine, user_id: int, first_visit: Callable[[], datetime]) -> datetime:
    """The user's mark. On their first visit it is set to ``first_visit()``
    (what the store then held), so that only later arrivals count as new; it is
    only worked out then, so the usual visit costs one small read."""
    with engine.connect() as db:
        found = db.execute(select(visit_marks.c.seen_up_to).where(visit_marks.c.user_id == user_id)).scalar()
    if found is not None:
        return found
    start = first_visit()
    try:
        with engine.begin() as db:
            db.execute(insert(visit_marks).values(user_id=user_id, seen_up_to=start, marked_at=_now()))
    except IntegrityError:  # two first requests at once: the other one set it
        return mark_of(engine, user_id, first_visit)
    return start


def mark_seen(engine: Engine, user_id: int, up_to: datetime) -> datetime:
    """Move the user's mark to ``up_to`` (never back: marking an older list as
    seen does not bring back what a newer one showed). Returns the mark."""
    current = mark_of(engine, user_id, lambda: up_to)
    if up_to <= current:
        return current
    with engine.begin() as db:
        db.execute(
            update(visit_marks)
            .where((visit_marks.c.user_id == user_id) & (visit_marks.c.seen_up_to < up_to))
            .values(seen_up_to=up_to, marked_at=_now())
        )
    return up_to

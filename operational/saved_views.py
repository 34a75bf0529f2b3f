"""Saved views: a user's pages and filters kept under a name, and the views NCMD offers to every
user of a CDOP ("Shared by NCMD").

Only the owner may rename or delete a view; a shared view is seen (and opened) by the users whose
grants hold its CDOP. What a view shows is decided when it is opened, by cleaning its query
against the user's scope then (``dashboard``), never by what was true when it was saved.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime

from sqlalchemy import Engine, delete, func, insert, or_, select, update

from operational.tables import saved_views

NAME_LIMIT = 80
QUERY_LIMIT = 4000
VIEWS_PER_USER = 100


class BadSavedView(ValueError):
    """A name or query that cannot be saved; the message is one line for the user."""


@dataclass(frozen=True)
class SavedView:
    id: int
    user_id: int
    name: str
    path: str
    query: str
    shared_cdop: str | None

    def shared_with(self, user_id: int) -> bool:
        """Whether this view reaches ``user_id`` as one offered by NCMD (not one of their own)."""
        return self.shared_cdop is not None and self.user_id != user_id


def _now() -> datetime:
    return datetime.now(UTC).replace(tzinfo=None)


def clean_name(name: object) -> str:
    if not isinstance(name, str) or not name.strip():
        raise BadSavedView("give the view a name")
    text = " ".join(name.split())
    if len(text) > NAME_LIMIT:
        raise BadSavedView(f"a view's name has at most {NAME_LIMIT} characters")
    return text


def _row(row: object) -> SavedView:
    m = row._mapping  # type: ignore[attr-defined]
    return SavedView(m["id"], m["user_id"], m["name"], m["path"], m["query"], m["shared_cdop"])


def save(
    engine: Engine, user_id: int, name: object, path: str, query: str, shared_cdop: str | None = None
) -> SavedView:
    """Keep ``path`` and ``query`` (already cleaned by the caller) under ``name`` for ``user_id``."""
    text = clean_name(name)
    if len(query) > QUERY_LIMIT:
        raise BadSavedView("this view's filters are too long to save")
    with engine.begin() as db:
        count = db.execute(select(func.count()).where(saved_views.c.user_id == user_id)).scalar_one()
        if count >= VIEWS_PER_USER:
            raise BadSavedView(f"you have {VIEWS_PER_USER} saved views: delete one first")
        now = _now()
        new_id = db.execute(
            insert(saved_views).values(
                user_id=user_id,
                name=text,
                path=path,
                query=query,
                shared_cdop=shared_cdop,
                created_at=now,
                updated_at=now,
            )
        ).inserted_primary_key[0]
    return SavedView(int(new_id), user_id, text, path, query, shared_cdop)


def visible_to(engine: Engine, user_id: int, cdop_codes: Sequence[str]) -> list[SavedView]:
    """The user's own views, then those NCMD shared with one of their CDOPs, each by name."""
    shared = saved_views.c.shared_cdop.in_(list(cdop_codes)) if cdop_codes else None
    condition = saved_views.c.user_id == user_id if shared is None else or_(saved_views.c.user_id == user_id, shared)
    query = select(saved_views).where(condition).order_by(func.lower(saved_views.c.name), saved_views.c.id)
    with engine.connect() as db:
        views = [_row(row) for row in db.execute(query)]
    return [v for v in views if not v.shared_with(user_id)] + [v for v in views if v.shared_with(user_id)]


def find(engine: Engine, view_id: object, user_id: int, cdop_codes: Sequence[str]) -> SavedView | None:
    """The view ``view_id`` if this user may open it (their own, or shared with one of their CDOPs)."""
    if not isinstance(view_id, int) or isinstance(view_id, bool):
        return None
    return next((v for v in visible_to(engine, user_id, cdop_codes) if v.id == view_id), None)


def rename(engine: Engine, view_id: object, user_id: int, name: object) -> SavedView | None:
    """Rename one of the user's own views; None if it is not theirs."""
    text = clean_name(name)
    if not isinstance(view_id, int) or isinstance(view_id, bool):
        return None
    with engine.begin() as db:
        done = db.execute(
            update(saved_views)
            .where((saved_views.c.id == view_id) & (saved_views.c.user_id == user_id))
            .values(name=text, updated_at=_now())
        ).rowcount
        row = db.execute(select(saved_views).where(saved_views.c.id == view_id)).first() if done else None
    return _row(row) if row is not None else None


def remove(engine: Engine, view_id: object, user_id: int) -> SavedView | None:
    """Delete one of the user's own views; None if it is not theirs."""
    if not isinstance(view_id, int) or isinstance(view_id, bool):
        return None
    with engine.begin() as db:
        row = db.execute(
            select(saved_views).where((saved_views.c.id == view_id) & (saved_views.c.user_id == user_id))
        ).first()
        if row is None:
            return None
        db.execute(delete(saved_views).where(saved_views.c.id == view_id))
    return _row(row)

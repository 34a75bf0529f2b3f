"""Each user's e-mail digest subscription: address, verification, frequency and digest mark.

The digest mark works like the "last visit" mark (``operational.visits``): a
moment in the deaths store's history. It is each user's own, and moves only
after the mail server accepted the digest that counted the deaths up to it
(``sent``). A run claims a user before sending (``claim``), so two runs at
once never both send; a claim older than ``STALE_CLAIM`` is taken to be a
run that died, and may be claimed again.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import Engine, RowMapping, insert, or_, select, update

from operational.tables import digest_subscriptions, users

FREQUENCIES = ("off", "daily", "weekly")
STALE_CLAIM = timedelta(minutes=30)
# one address per line, no display name: letters, digits and the usual punctuation before
# the @, a domain with at least one dot; no spaces, quotes, angle brackets, CR or LF (headers)
_LABEL = r"[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?"
ADDRESS = re.compile(rf"[A-Za-z0-9.!#$%&'*+/=?^_`{{|}}~-]{{1,64}}@{_LABEL}(?:\.{_LABEL})+")
MAX_ADDRESS = 254


class DigestSettingsError(ValueError):
    """A user-facing problem with digest settings (one line)."""


@dataclass(frozen=True)
class Subscription:
    user_id: int
    email: str | None
    verified_at: datetime | None
    link_sent_at: datetime | None
    frequency: str
    when_empty: bool
    digest_mark: datetime | None
    last_sent_at: datetime | None
    claimed_at: datetime | None

    @property
    def verified(self) -> bool:
        return self.email is not None and self.verified_at is not None

    @property
    def active(self) -> bool:
        """Digests go to this user: a verified address and a frequency."""
        return self.verified and self.frequency != "off"

    def describe(self) -> str:
        """One line for lists (the users page, the command line)."""
        if not self.email:
            return "off (no address)"
        state = "verified" if self.verified else "not verified yet"
        every = {"off": "off", "daily": "daily", "weekly": "weekly"}[self.frequency]
        if self.frequency == "weekly" and self.when_empty:
            every = "weekly, even when nothing is new"
        return f"{every} to {self.email} ({state})"


def _now() -> datetime:
    return datetime.now(UTC).replace(tzinfo=None)


def check_address(raw: object) -> str:
    """An e-mail address from untrusted input, or DigestSettingsError with a one-line reason."""
    if not isinstance(raw, str):
        raise DigestSettingsError("give an e-mail address")
    address = raw.strip()
    if not address:
        raise DigestSettingsError("give an e-mail address")
    if len(address) > MAX_ADDRESS or not ADDRESS.fullmatch(address):
        raise DigestSettingsError("that is not an e-mail address this app can send to (name@example.nhs.uk)")
    local, domain = address.rsplit("@", 1)
    return f"{local}@{domain.lower()}"


def check_frequency(raw: object) -> str:
    if not isinstance(raw, str) or raw not in FREQUENCIES:
        raise DigestSettingsError(f"the frequency is one of {', '.join(FREQUENCIES)}")
    return raw


def _row_to_subscription(row: RowMapping) -> Subscription:
    return Subscription(**{name: row[name] for name in Subscription.__dataclass_fields__})


def get(engine: Engine, user_id: int) -> Subscription | None:
    with engine.connect() as db:
        row = (
            db.execute(select(digest_subscriptions).where(digest_subscriptions.c.user_id == user_id)).mappings().first()
        )
    return _row_to_subscription(row) if row else None


def all_by_user(engine: Engine) -> dict[int, Subscription]:
    with engine.connect() as db:
        rows = db.execute(select(digest_subscriptions)).mappings().all()
    return {row["user_id"]: _row_to_subscription(row) for row in rows}


def subscribe(
    engine: Engine, user_id: int, email: str | None, frequency: str, when_empty: bool = False
) -> Subscription:
    """Set the user's address and frequency (both already checked). A new address
    is unverified until its link is followed; the same address keeps its verification."""
    frequency = check_frequency(frequency)
    if email is not None:
        email = check_address(email)
    if frequency == "off" and email is None:
        when_empty = False
    values: dict[str, Any] = {
        "email": email,
        "frequency": frequency,
        "when_empty": bool(when_empty) and frequency == "weekly",
        "updated_at": _now(),
    }
    with engine.begin() as db:
        found = db.execute(
            select(digest_subscriptions.c.email).where(digest_subscriptions.c.user_id == user_id)
        ).first()
        if found is None:
            db.execute(insert(digest_subscriptions).values(user_id=user_id, **values))
        else:
            if found[0] != email:
                values.update(verified_at=None, link_sent_at=None)
            db.execute(update(digest_subscriptions).where(digest_subscriptions.c.user_id == user_id).values(**values))
    found_now = get(engine, user_id)
    assert found_now is not None
    return found_now


def link_sent(engine: Engine, user_id: int, at: datetime | None = None) -> None:
    with engine.begin() as db:
        db.execute(
            update(digest_subscriptions)
            .where(digest_subscriptions.c.user_id == user_id)
            .values(link_sent_at=at or _now())
        )


def verify(engine: Engine, user_id: int, email: str, mark: datetime | None) -> bool:
    """Mark ``email`` verified for the user, if it is still their address. The digest mark
    starts again at ``mark`` (what the deaths store holds now), so the first digest to a newly
    confirmed address counts only deaths that arrive after it. False if the address changed since."""
    with engine.begin() as db:
        done = db.execute(
            update(digest_subscriptions)
            .where((digest_subscriptions.c.user_id == user_id) & (digest_subscriptions.c.email == email))
            .values(verified_at=_now(), digest_mark=mark)
        )
    return done.rowcount == 1


def subscribed(engine: Engine) -> list[tuple[str, Subscription]]:
    """(username, subscription) of every active user with a verified address and a frequency."""
    query = (
        select(users.c.username, digest_subscriptions)
        .join(users, users.c.id == digest_subscriptions.c.user_id)
        .where(
            users.c.active.is_(True)
            & digest_subscriptions.c.verified_at.is_not(None)
            & digest_subscriptions.c.email.is_not(None)
            & (digest_subscriptions.c.frequency != "off")
        )
        .order_by(users.c.username)
    )
    with engine.connect() as db:
        return [(row["username"], _row_to_subscription(row)) for row in db.execute(query).mappings()]


def claim(engine: Engine, user_id: int, now: datetime | None = None) -> bool:
    """Take the user's digest for this run; False if another run holds it."""
    now = now or _now()
    with engine.begin() as db:
        done = db.execute(
            update(digest_subscriptions)
            .where(
                (digest_subscriptions.c.user_id == user_id)
                & or_(
                    digest_subscriptions.c.claimed_at.is_(None),
                    digest_subscriptions.c.claimed_at < now - STALE_CLAIM,
                )
            )
            .values(claimed_at=now)
        )
    return done.rowcount == 1


def release(engine: Engine, user_id: int) -> None:
    """Give the claim back, leaving the mark where it was (nothing sent, or a failure)."""
    with engine.begin() as db:
        db.execute(
            update(digest_subscriptions).where(digest_subscriptions.c.user_id == user_id).values(claimed_at=None)
        )


def set_mark(engine: Engine, user_id: int, mark: datetime) -> None:
    """A starting point for a user verified before the deaths store existed."""
    with engine.begin() as db:
        db.execute(
            update(digest_subscriptions)
            .where((digest_subscriptions.c.user_id == user_id) & digest_subscriptions.c.digest_mark.is_(None))
            .values(digest_mark=mark)
        )


def sent(engine: Engine, user_id: int, mark: datetime, at: datetime | None = None) -> None:
    """The mail server accepted the user's digest of deaths up to ``mark``: move their mark, release the claim."""
    with engine.begin() as db:
        db.execute(
            update(digest_subscriptions)
            .where(digest_subscriptions.c.user_id == user_id)
            .values(digest_mark=mark, last_sent_at=at or _now(), claimed_at=None)
        )

"""``python app.py digest send``: every digest that is due, once.

For each active user with a verified address and a frequency: is it due
(``is_due``)? claim it (so a second run at the same time leaves it alone),
count what is new in their footprint since their digest mark, and send it if
anything is (or weekly-even-when-empty asks for it); only when the mail server
has accepted it does the user's mark move to the newest load counted. Any
failure is that user's alone: it is reported and audited, the mark stays, and
the run goes on to the next user.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from email.message import EmailMessage
from typing import Protocol

import duckdb
from sqlalchemy import Engine

from digest import links, message
from digest.counts import DigestCounts, count, user_scope
from digest.mailer import SendFailed
from footprints.store import MappingSource
from operational import accounts, audit, digests
from operational.digests import Subscription
from queries import flags, whatsnew
from queries.mapping import Mapping
from queries.scope import NoFootprint, UnknownCdop
from settings import Settings

SENT, NOTHING_NEW, NOT_DUE, FAILED, SKIPPED, STARTED, WOULD_SEND = (
    "sent",
    "nothing new",
    "not due",
    "failed",
    "skipped",
    "started",
    "would send",
)
PERIOD_DAYS = {"daily": 1, "weekly": 7}


@dataclass(frozen=True)
class Outcome:
    username: str
    status: str
    detail: str = ""
    counts: DigestCounts | None = None
    message: EmailMessage | None = None


@dataclass
class Report:
    outcomes: list[Outcome] = field(default_factory=list)

    @property
    def failed(self) -> list[Outcome]:
        return [o for o in self.outcomes if o.status == FAILED]

    @property
    def exit_code(self) -> int:
        """0 when every due digest went (or none was due), 1 when any failed."""
        return 1 if self.failed else 0


def is_due(frequency: str, last_sent: datetime | None, now: datetime) -> bool:
    """Daily: not yet sent today (UTC); weekly: none sent in the 6 days before today. By calendar
    day, so that a run at the same hour every day is never a few seconds short of a period."""
    if frequency not in PERIOD_DAYS:
        return False
    if last_sent is None:
        return True
    return last_sent.date() <= now.date() - timedelta(days=PERIOD_DAYS[frequency])


@dataclass(frozen=True)
class Context:
    """What a run reads once: settings, the stores, the mapping in force, today, the flags' rule."""

    settings: Settings
    engine: Engine
    conn: duckdb.DuckDBPyConnection
    mapping: Mapping
    today: date
    rule: flags.AttentionRule
    now: datetime


def context(settings: Settings, engine: Engine, conn: duckdb.DuckDBPyConnection, as_at: date | None) -> Context:
    """A run's context, as the What's new page sees things now: the mapping in force today
    (``FIXED_TODAY`` in the demo's tests) and the flags' thresholds counted to the data's as-at date."""
    return Context(
        settings=settings,
        engine=engine,
        conn=conn,
        mapping=MappingSource(engine).current(conn),
        today=settings.fixed_today or date.today(),
        rule=flags.AttentionRule(
            unassigned_days=settings.unassigned_flag_days,
            open_review_months=settings.open_review_flag_months,
            as_at=as_at,
        ),
        now=datetime.now(UTC).replace(tzinfo=None),
    )


class Sender(Protocol):
    """What sends a message, raising SendFailed if it was not accepted: ``digest.mailer.Mailer``."""

    def send(self, mail: EmailMessage) -> None: ...


def send_due(
    ctx: Context,
    sender: Callable[[], Sender] | None,
    only_user: str | None = None,
) -> Report:
    """Send every digest due now (to ``only_user`` alone if given). ``sender`` None: a dry run,
    which counts and composes but sends nothing, claims nothing and moves no mark."""
    report = Report()
    mailer: Sender | None = None
    for username, sub in digests.subscribed(ctx.engine):
        if only_user is not None and username != only_user:
            continue
        if not is_due(sub.frequency, sub.last_sent_at, ctx.now):
            last = f"last sent {sub.last_sent_at:%Y-%m-%d %H:%M} UTC" if sub.last_sent_at else ""
            report.outcomes.append(Outcome(username, NOT_DUE, last))
            continue
        if sender is None:
            report.outcomes.append(_one(ctx, username, sub, None))
            continue
        if not digests.claim(ctx.engine, sub.user_id, ctx.now):
            report.outcomes.append(Outcome(username, SKIPPED, "another run is sending it"))
            continue
        try:
            if mailer is None:
                mailer = sender()
            outcome = _one(ctx, username, sub, mailer)
        except Exception as error:  # noqa: BLE001 - one user's failure, whatever it is, must not stop the others
            reason = " ".join(str(error).split())[:200] or type(error).__name__
            audit.record(ctx.engine, "digest_failed", username, None, to=sub.email, reason=reason)
            outcome = Outcome(username, FAILED, reason)
        finally:
            digests.release(ctx.engine, sub.user_id)  # after a success, sent() has released it already
        report.outcomes.append(outcome)
    if only_user is not None and not report.outcomes:
        report.outcomes.append(Outcome(only_user, SKIPPED, "no confirmed address, or the digest is off"))
    return report


def _one(ctx: Context, username: str, sub: Subscription, mailer: Sender | None) -> Outcome:
    user = accounts.get_user(ctx.engine, sub.user_id)
    if user is None or not user.active:
        return Outcome(username, SKIPPED, "no such active user")
    try:
        scope = user_scope(user, ctx.conn, ctx.today, ctx.mapping)
    except (NoFootprint, UnknownCdop):
        return Outcome(username, SKIPPED, "holds no CDOP in force: no digest")
    if sub.digest_mark is None:
        newest = whatsnew.latest_load(ctx.conn)
        if newest is not None and mailer is not None:
            digests.set_mark(ctx.engine, sub.user_id, newest)
        return Outcome(username, STARTED, "first run since the address was verified: later arrivals will count")
    counts = count(ctx.conn, scope, sub.digest_mark, ctx.rule)
    if counts.total == 0 and not (sub.frequency == "weekly" and sub.when_empty):
        return Outcome(username, NOTHING_NEW, f"nothing new in {counts.footprint}", counts)
    mail = message.digest_message(
        counts,
        ctx.settings.mail_from or "(MAIL_FROM)",
        sub.email or "",
        links.whats_new_link(ctx.settings, sub.digest_mark),
        links.settings_link(ctx.settings),
    )
    if mailer is None:
        return Outcome(username, WOULD_SEND, f"to {sub.email}", counts, mail)
    try:
        mailer.send(mail)
    except SendFailed as error:
        audit.record(ctx.engine, "digest_failed", username, None, to=sub.email, reason=str(error), **counts.as_detail())
        return Outcome(username, FAILED, str(error), counts, mail)
    digests.sent(ctx.engine, sub.user_id, counts.until or sub.digest_mark, ctx.now)
    audit.record(ctx.engine, "digest_sent", username, None, to=sub.email, **counts.as_detail())
    return Outcome(username, SENT, f"to {sub.email}", counts, mail)

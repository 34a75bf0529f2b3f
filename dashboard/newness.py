"""What "new" means for a request: the signed-in user's mark, the period they chose, the flags' thresholds.

Shared by the indicator on every page, the "What's new" page and its CSV. The
user is always the signed-in one (``view.user``); the period comes from the
URL's ``since`` parameter and is cleaned here: ``last`` (since my last visit,
the default), ``7d``, ``30d``, a date (``YYYY-MM-DD``) or a moment
(``YYYY-MM-DDTHH:MM:SS[.ffffff]``, UTC: an e-mail digest's period, which starts
at the load its previous digest counted up to).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta

import polars as pl

from dashboard.context import View, services
from dashboard.ui.text import long_date
from dashboard.urlstate import first
from operational import visits
from queries import codes, flags, whatsnew

LAST_VISIT = "last"
WINDOWS = {"7d": 7, "30d": 30}
CHOICES = {LAST_VISIT: "Since my last visit", "7d": "Last 7 days", "30d": "Last 30 days"}
MOMENT = re.compile(r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d{1,6})?")


class BadSince(ValueError):
    """A ``since`` value that is not one of the choices or a usable date."""


@dataclass(frozen=True)
class Since:
    choice: str  # a key of CHOICES, "date" or "moment"
    day: date | None = None
    moment: datetime | None = None  # "moment": deaths loaded after it (UTC)

    @property
    def param(self) -> str | None:
        """The value for the URL (None for the default)."""
        if self.choice == "moment" and self.moment:
            return self.moment.isoformat()
        if self.choice == "date" and self.day:
            return self.day.isoformat()
        return None if self.choice == LAST_VISIT else self.choice


def parse_since(raw: object, today: date) -> Since:
    """The user's choice of period, from untrusted input; BadSince with a one-line reason."""
    if raw is None or raw == "" or raw == LAST_VISIT:
        return Since(LAST_VISIT)
    if isinstance(raw, str) and MOMENT.fullmatch(raw):
        return _moment_since(raw, today)
    if not isinstance(raw, str) or len(raw) > 10:
        raise BadSince("Choose since your last visit, the last 7 or 30 days, or a date.")
    if raw in WINDOWS:
        return Since(raw)
    try:
        day = date.fromisoformat(raw)
    except ValueError:
        raise BadSince(f"{raw!r} is not a date: use the form 2025-06-30.") from None
    if not codes.EARLIEST_DEATH <= day <= today:
        raise BadSince(f"Choose a date between {long_date(codes.EARLIEST_DEATH)} and today.")
    return Since("date", day)


def _moment_since(raw: str, today: date) -> Since:
    """A digest's period: deaths loaded after a moment (UTC, as the digest's link gives it)."""
    try:
        moment = datetime.fromisoformat(raw)
    except ValueError:
        raise BadSince(f"{raw!r} is not a moment: use the form 2025-06-30T07:00:00.") from None
    if not codes.EARLIEST_DEATH <= moment.date() <= today:
        raise BadSince(f"Choose a moment between {long_date(codes.EARLIEST_DEATH)} and today.")
    return Since("moment", moment.date(), moment)


def requested_since(view: View) -> Since:
    """The period in the view's URL; BadSince if it is not usable (for the CSV, which cannot show a message)."""
    return parse_since(first(view.params, "since"), date.today())


def since_of(view: View) -> tuple[Since, str | None]:
    """The period in the view's URL, and a message if it was not usable (the default is used then)."""
    try:
        return parse_since(first(view.params, "since"), date.today()), None
    except BadSince as error:
        return Since(LAST_VISIT), f"{error} Showing deaths new since your last visit."


def now() -> datetime:
    return datetime.now(UTC).replace(tzinfo=None)


def user_mark(view: View) -> datetime:
    """The signed-in user's mark (set at their first visit to what the store then held)."""
    return visits.mark_of(services().engine, view.user.id, lambda: whatsnew.latest_load(view.conn) or now())


def cutoff(view: View, since: Since) -> datetime:
    """Deaths that entered the store after this moment are listed."""
    if since.choice == LAST_VISIT:
        return user_mark(view)
    if since.choice in WINDOWS:
        return now() - timedelta(days=WINDOWS[since.choice])
    if since.choice == "moment" and since.moment is not None:
        return since.moment
    assert since.day is not None
    return datetime.combine(since.day, datetime.min.time())


def describe(since: Since, mark: datetime) -> str:
    if since.choice == LAST_VISIT:
        return f"since your last visit (deaths loaded after {mark:%d %B %Y, %H:%M} UTC)"
    if since.choice in WINDOWS:
        return f"in the last {WINDOWS[since.choice]} days"
    if since.choice == "moment" and since.moment is not None:
        return f"after {since.moment:%d %B %Y, %H:%M} UTC (your e-mail digest's period)"
    assert since.day is not None
    return f"since {long_date(since.day)}"


def rule_for(view: View) -> flags.AttentionRule:
    settings = services().settings
    return flags.AttentionRule(
        unassigned_days=settings.unassigned_flag_days,
        open_review_months=settings.open_review_flag_months,
        as_at=view.facts.as_at,
    )


def new_count(view: View) -> int:
    """The indicator: deaths in the view's footprint new since the user's mark
    (cached per scope, store version and mark, so most pages pay one SQLite read)."""
    mark = user_mark(view)
    key = ("new_count", view.scope.key, view.facts.version, mark)
    return services().cached(key, lambda: whatsnew.new_count(view.conn, view.scope, mark))


def new_list(view: View, since: Since) -> tuple[datetime, pl.DataFrame]:
    """The cut-off and the deaths new since it, for the page and its CSV."""
    moment = cutoff(view, since)
    return moment, whatsnew.new_cases(view.conn, view.scope, moment, rule_for(view))


def csv_frame(view: View) -> pl.DataFrame:
    """The "What's new" list as its CSV has it; BadSince if the URL's period is not usable."""
    _moment, frame = new_list(view, requested_since(view))
    return frame.drop("group_code")

"""Attention flags: deaths in a footprint's hospitals that may be falling through the gaps.

Three rules, each a condition over a ``report_facts`` row:

- still no reviewing CDOP more than ``unassigned_days`` after notification;
- reviewed by a CDOP that is neither the CDOP of residence nor one whose
  footprint holds the hospital (worked out at load: ``reviewer_elsewhere``);
- review still open more than ``open_review_months`` after notification.

Time is measured to the data's as-at date, not to today: the store only knows
each case as it stood when the extract was taken.
"""

from __future__ import annotations

import calendar
from dataclasses import dataclass
from datetime import date, timedelta

FLAGS = ("unassigned", "elsewhere", "open")


def months_before(day: date, months: int) -> date:
    """``day`` moved back by whole calendar months (31 March less one month is 28 or 29 February)."""
    index = day.year * 12 + day.month - 1 - months
    year, month = divmod(index, 12)
    return date(year, month + 1, min(day.day, calendar.monthrange(year, month + 1)[1]))


@dataclass(frozen=True)
class AttentionRule:
    """The thresholds in force (from settings) and the day time is measured to."""

    unassigned_days: int = 30
    open_review_months: int = 12
    as_at: date | None = None  # the data's as-at date; today if not known

    @property
    def day(self) -> date:
        return self.as_at or date.today()

    @property
    def labels(self) -> dict[str, str]:
        return {
            "unassigned": f"No reviewing CDOP after {self.unassigned_days} days",
            "elsewhere": "Reviewer neither home nor hospital CDOP",
            "open": f"Review open over {self.open_review_months} months",
        }

    def condition_params(self) -> dict[str, object]:
        """Bound parameters of ``condition``."""
        return {
            "att_unassigned_before": self.day - timedelta(days=self.unassigned_days),
            "att_open_before": months_before(self.day, self.open_review_months),
        }

    def params(self) -> dict[str, object]:
        """Bound parameters of ``attention_sql``."""
        return {**self.condition_params(), **{f"att_{flag}_label": text for flag, text in self.labels.items()}}


def condition(flag: str, prefix: str = "") -> str:
    """SQL that is true when ``flag`` applies to a row (``prefix`` names the row, e.g. ``f.``)."""
    p = prefix
    return {
        "unassigned": f"({p}reviewing_cdop_code IS NULL AND {p}notification_date < $att_unassigned_before)",
        "elsewhere": f"coalesce({p}reviewer_elsewhere, false)",
        "open": f"({p}review_status <> 'completed' AND {p}notification_date < $att_open_before)",
    }[flag]


def attention_sql(prefix: str = "") -> str:
    """Every flag that applies to a row, as one text ('; '-separated), NULL if none."""
    parts = ", ".join(f"CASE WHEN {condition(flag, prefix)} THEN $att_{flag}_label END" for flag in FLAGS)
    return f"nullif(concat_ws('; ', {parts}), '')"

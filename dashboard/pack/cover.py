"""The pack's cover: what it holds and under which conditions, in words."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from types import ModuleType

from dashboard.context import View
from dashboard.downloads import HIDDEN
from dashboard.pack.workbook import Cover
from dashboard.ui.text import filter_summary, long_date, period_label

NOT_COVERED = (
    "Deaths whose place of death was not a hospital; deaths in hospitals outside England; rates of death; "
    "deaths your CDOP reviews that happened in a hospital outside your footprint."
)


def suppression_text(suppress: bool) -> str:
    if suppress:
        return (
            f"Suppressed for publication: counts of 1 to 4, and the cells that would reveal them, are shown as "
            f"{HIDDEN} (each table protected on its own); 0 is shown."
        )
    return "Not suppressed: counts of 1 to 4 are shown. Not for publication (ask for the pack with suppress=1)."


def cover_for(view: View, pages: Sequence[ModuleType], suppress: bool, made_at: datetime) -> Cover:
    """The cover of a pack of ``pages`` made from ``view`` (its cleaned filters, its scope)."""
    facts = view.facts
    as_at = long_date(facts.as_at) if facts.as_at else "not known"
    filters = filter_summary(view.filters, view.options)
    period = period_label(view.filters, view.options)
    lines = [
        ("Footprint", view.scope.label),
        ("Pages", ", ".join(page.NAME for page in pages)),
        ("Period", period),
        ("Filters in force", "; ".join(filters) if filters else "None: every death in the footprint's hospitals"),
        ("Data as at", as_at),
        ("Small numbers", suppression_text(suppress)),
    ]
    if facts.synthetic:
        lines.append(("Synthetic data", "Every death in this pack is made up for demonstration: no real child's data."))
    lines += [
        ("Not covered", NOT_COVERED),
        ("Made by", view.user.username),
        ("Made at", f"{made_at:%Y-%m-%d %H:%M} UTC"),
    ]
    subtitle = f"{view.scope.label}, {period}. Data as at {as_at}. " + (
        f"Small numbers hidden as {HIDDEN}." if suppress else "Small numbers not suppressed."
    )
    if facts.synthetic:
        subtitle += " Synthetic data."
    return Cover(f"Panel pack: {view.scope.label}", lines, subtitle)

"""Plain-English wording of periods, filters and numbers."""

from __future__ import annotations

from datetime import date

from queries import codes
from queries.filters import FilterOptions, Filters, Option


def long_date(day: date) -> str:
    return f"{day.day} {day:%B %Y}"


def period_label(filters: Filters, options: FilterOptions) -> str:
    """What period a figure counts, e.g. '2022/23 to 2024/25'."""
    parts = []
    years = sorted(filters.financial_years)
    if years:
        if len(years) == 1:
            parts.append(codes.financial_year_label(years[0]))
        elif years == list(range(years[0], years[-1] + 1)):
            parts.append(f"{codes.financial_year_label(years[0])} to {codes.financial_year_label(years[-1])}")
        else:
            parts.append(", ".join(codes.financial_year_label(y) for y in years))
    if filters.date_from and filters.date_to:
        parts.append(f"{long_date(filters.date_from)} to {long_date(filters.date_to)}")
    elif filters.date_from:
        parts.append(f"from {long_date(filters.date_from)}")
    elif filters.date_to:
        parts.append(f"up to {long_date(filters.date_to)}")
    if parts:
        return ", ".join(parts)
    if options.first_date and options.last_date:
        return f"{options.first_date:%B %Y} to {options.last_date:%B %Y}"
    return "all dates"


def _labels(values: tuple[str, ...], choices: tuple[Option, ...]) -> str:
    names = {o.value: o.label for o in choices}
    return ", ".join(names.get(v, v) for v in values)


def filter_summary(filters: Filters, options: FilterOptions) -> list[str]:
    """One short phrase per active filter, for the 'showing' line and file notes."""
    out = []
    for title, values, choices in (
        ("Trust", filters.trust_codes, options.trusts),
        ("Hospital", filters.site_codes, options.sites),
        ("Place", filters.places, options.places),
        ("Age", filters.age_groups, options.age_groups),
        ("Reviewing CDOP", filters.reviewing_cdops, options.reviewing_cdops),
        ("Residence", filters.residence_groups, options.residence_groups),
        ("Review status", filters.review_statuses, options.review_statuses),
        ("Area of residence", filters.residence_areas, options.residence_areas),
    ):
        if values:
            out.append(f"{title}: {_labels(values, choices)}")
    return out


def number(value: int) -> str:
    return f"{value:,}"


def share(part: int, whole: int) -> str:
    return "–" if whole == 0 else f"{100 * part / whole:.0f}%"


def slug(text: str) -> str:
    """'Leicester, Leicestershire and Rutland CDOP' -> 'leicester-leicestershire-and-rutland-cdop'."""
    kept = "".join(ch.lower() if ch.isalnum() else "-" for ch in text)
    return "-".join(part for part in kept.split("-") if part)[:80]


def chart_limit_note(rows: int, limit: int) -> str:
    """Said under a chart that shows only its largest bars."""
    return f" The chart shows the {limit} with most deaths; the CSV has all {rows}." if rows > limit else ""

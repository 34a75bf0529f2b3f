"""A report page's tables, counted for the panel pack by the CSV downloads' own functions.

Every frame comes from ``dashboard.downloads.AGGREGATES`` on the request's ``View`` (so the same
scope, the same cleaned filters and the same query), and a publication copy is made by the
downloads' ``for_publication`` (the same primary and secondary suppression): the pack holds no
count that the page's CSVs would not give the same user.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from types import ModuleType

import polars as pl

from dashboard.context import View
from dashboard.downloads import AGGREGATES, publication_copy
from dashboard.pack.spec import PackTable
from dashboard.ui.text import period_label
from dashboard.views import VIEWS
from queries.export import neutralise_formulas

MEASURE = "measure"  # a table whose one row's columns are its measures (the headline): a row for each
HEADERS = {
    "trust_code": "Trust code",
    "trust_name": "Trust",
    "site_code": "Hospital code",
    "site_name": "Hospital",
    "site_trust_code": "Hospital's trust code",
    "place_label": "Place in hospital",
    "age_group_label": "Age group",
    "reviewing_cdop_code": "Reviewing CDOP code",
    "reviewing_cdop_name": "Reviewing CDOP",
    "review_group_label": "Who reviews",
    "residence_group_label": "Where the child lived",
    "highest_unit_label": "Highest unit",
    "residence_area": "Area code",
    "area_name": "Area of residence",
    "financial_year": "Financial year",
    "fy_quarter": "Quarter",
    "period": "Period",
    "deaths": "Deaths",
    "measure": "Measure",
    "label": "Measure or group",  # the Reviews page's tables: a share, a category, a year or a CDOP
}


@dataclass(frozen=True)
class CountedTable:
    """One sheet's worth: the table as the sheet lays it out, and what its chart draws."""

    page: str  # the page's name ("Overview")
    spec: PackTable
    title: str  # what it counts and when
    columns: tuple[str, ...]  # in sheet order
    rows: list[tuple[object, ...]]  # counts are numbers, or text ('[c]') where a cell is hidden
    category: str  # the column of the chart's categories
    values: tuple[str, ...]  # the columns of counts the chart draws (one series each)
    chart: str  # "bar", "column", "line" or "none"


def report_pages() -> tuple[ModuleType, ...]:
    """The pages with tables, in the navigation's order."""
    return tuple(view for view in VIEWS if getattr(view, "PACK", ()))


def pages_for(path: str | None, every: bool) -> tuple[ModuleType, ...]:
    """The pages a pack holds: every report page, or the one at ``path`` (none if it has no tables)."""
    pages = report_pages()
    return pages if every else tuple(view for view in pages if path == view.PATH)


def header(column: str) -> str:
    return HEADERS.get(column, column.replace("_", " ").capitalize())


def count(view: View, page: ModuleType, spec: PackTable, suppress: bool) -> CountedTable:
    """The table ``spec`` of ``page`` in ``view``; hidden cells as '[c]' when ``suppress``. Raises
    ``disclosure.Unprotectable`` as the CSV would."""
    params = {**view.params, **{name: [value] for name, value in spec.settings.items()}}
    frame = AGGREGATES[spec.download](replace(view, params=params))
    if suppress:
        frame = publication_copy(spec.download, frame)
    frame = neutralise_formulas(frame)
    title = f"{spec.title_for(params)}, {period_label(view.filters, view.options)}"
    kind = spec.chart_kind(params)
    if spec.category == MEASURE:  # one row of measures: a row each
        rows = [(header(c), _count(v)) for c, v in zip(frame.columns, frame.row(0), strict=True)]
        return CountedTable(page.NAME, spec, title, (MEASURE, "deaths"), rows, MEASURE, ("deaths",), kind)
    # codes that have a label beside them (place and place_label) are shown by their label
    # (and the counts come last, as on screen)
    value = spec.value
    kept = [c for c in frame.columns if f"{c}_label" not in frame.columns and c not in (*spec.drop, value)]
    kept.append(value)
    frame = frame.select(kept)
    series = spec.series_column(params)
    if series is None:
        rows = [tuple(_count(v) for v in row) for row in frame.iter_rows()]
        return CountedTable(page.NAME, spec, title, tuple(kept), rows, spec.category, (value,), kind)
    columns, rows, names = _pivot(frame, series, value)
    return CountedTable(page.NAME, spec, title, columns, rows, spec.category, names, kind)


def _pivot(
    frame: pl.DataFrame, series: str, value: str = "deaths"
) -> tuple[tuple[str, ...], list[tuple[object, ...]], tuple[str, ...]]:
    """Long counts to a column per value of ``series`` (in the order they first come), a row per
    value of the other columns; a pair with no row is 0. The cells are the long table's, moved:
    no total is added, so a hidden cell stays as hard to work out as in the CSV."""
    index = [c for c in frame.columns if c not in (series, value)]
    names = tuple(str(name) for name in frame[series].unique(maintain_order=True).to_list())
    cells: dict[tuple[object, ...], dict[str, object]] = {}
    for values in frame.select(*index, series, value).iter_rows():
        *keys, name, count = values
        cells.setdefault(tuple(keys), {})[str(name)] = _count(count)
    rows = [(*keys, *(found.get(name, 0) for name in names)) for keys, found in cells.items()]
    return (*index, *names), rows, names


def _count(value: object) -> object:
    """A number as a number, also when a publication copy made its column text; a hidden cell
    ('[c]') and any other text stay text."""
    if isinstance(value, str):
        try:
            return int(value) if value.lstrip("-").isdigit() else float(value)
        except ValueError:
            return value
    return value

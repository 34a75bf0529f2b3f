"""Trusts and hospitals: drill from trust to hospital to place in hospital to age group.

The drill level is not separate state: it follows from the filters (one trust
chosen -> its hospitals; one hospital -> places; one place -> age groups), so
it lives in the URL like everything else, and the breadcrumb just removes the
deeper filters.
"""

from __future__ import annotations

from typing import Any

import polars as pl
from dash import Input, Output, State, dcc, html
from dash.exceptions import PreventUpdate

from dashboard.callbacks import Callbacks
from dashboard.context import View, opened_view
from dashboard.pack.spec import PackTable
from dashboard.ui import figures, ids
from dashboard.ui.clicks import clicked_code, download_href
from dashboard.ui.components import chart_card, table
from dashboard.ui.filter_bar import BAR_STATE, sync_filter_bar
from dashboard.ui.text import chart_limit_note, period_label
from queries import codes, report
from queries.filters import Filters

callbacks = Callbacks()
PATH = "/trusts"
NAME = "Trusts and hospitals"
# its tables in the panel pack (dashboard.pack)
PACK = (
    PackTable("by-trust-and-age-group", "Deaths in hospital by trust and age group", "trust_name", "age_group_label"),
    PackTable("by-site-and-age-group", "Deaths in hospital by hospital and age group", "site_name", "age_group_label"),
    PackTable(
        "trust-site-place-age", "Deaths in hospital by trust, hospital, place and age group", "site_name", chart="none"
    ),
)

# level -> (dimension, label column, code column, noun, the filter field a click sets)
LEVELS = {
    "trust": ("trust", "trust_name", "trust_code", "trust", "trust_codes"),
    "site": ("site", "site_name", "site_code", "hospital", "site_codes"),
    "place": ("place", "place_label", "place", "place in hospital", "places"),
    "age_group": ("age_group", "age_group_label", "age_group", "age group", "age_groups"),
}
DEEPER = {
    "trust_codes": ("site_codes", "places", "age_groups"),
    "site_codes": ("places", "age_groups"),
    "places": ("age_groups",),
    "age_groups": (),
}


def layout(**_query: Any) -> html.Div:
    return html.Div(
        [
            html.H1("Trusts and hospitals"),
            html.Nav(id=ids.DRILL_CRUMBS, className="crumbs", **{"aria-label": "Drill-down"}),
            html.Div(
                className="split",
                children=[
                    chart_card(ids.DRILL_CHART, "Deaths in hospital", clickable=True),
                    html.Section(
                        className="card",
                        **{"aria-label": "Counts table"},
                        children=[
                            html.Div(id=ids.DRILL_TABLE),
                        ],
                    ),
                ],
            ),
        ]
    )


def drill_level(filters: Filters) -> str:
    if len(filters.trust_codes) != 1:
        return "trust"
    if len(filters.site_codes) != 1:
        return "site"
    if len(filters.places) != 1:
        return "place"
    return "age_group"


def crumb_items(view: View) -> list[tuple[str, str]]:
    """All trusts › Trust › Hospital › Place › Age group: (text, query going back there)."""
    f, o = view.filters, view.options
    names = {
        "trust_codes": {x.value: x.label for x in o.trusts},
        "site_codes": {x.value: x.label for x in o.sites},
        "places": codes.PLACES_IN_HOSPITAL,
        "age_groups": codes.AGE_GROUPS,
    }
    items: list[tuple[str, str]] = [
        ("All trusts", view.with_filters(trust_codes=(), site_codes=(), places=(), age_groups=()))
    ]
    for field in ("trust_codes", "site_codes", "places", "age_groups"):
        values = getattr(f, field)
        if len(values) != 1:
            break
        items.append((names[field].get(values[0], values[0]), view.with_filters(**dict.fromkeys(DEEPER[field], ()))))
    return items


def crumbs(items: list[tuple[str, str]]) -> html.Ol:
    return html.Ol(
        [
            html.Li(
                dcc.Link(text, href=f"/trusts{query}")
                if index < len(items) - 1
                else html.Span(text, **{"aria-current": "location"})
            )
            for index, (text, query) in enumerate(items)
        ]
    )


def pivot_by_age(frame: pl.DataFrame, label: str) -> pl.DataFrame:
    """Rows of the level, a column per age group, and a total."""
    # a few hundred cells at most: plain Python beats a polars pivot's fixed cost
    cells: dict[str, dict[str, int]] = {}
    for row, age, deaths in zip(*(frame[c].to_list() for c in (label, "age_group_label", "deaths")), strict=True):
        cells.setdefault(row, {})
        cells[row][age] = cells[row].get(age, 0) + deaths
    present = [a for a in codes.AGE_GROUPS.values() if any(a in ages for ages in cells.values())]
    rows = sorted(cells.items(), key=lambda item: -sum(item[1].values()))  # stable: ties keep their order
    columns = {
        label: [name for name, _ in rows],
        **{age: [ages.get(age, 0) for _, ages in rows] for age in present},
        "Total": [sum(ages.values()) for _, ages in rows],
    }
    return pl.DataFrame(columns, schema={label: pl.String, **dict.fromkeys(present, pl.Int64), "Total": pl.Int64})


@callbacks(
    Output(ids.DRILL_CRUMBS, "children"),
    Output(ids.part(ids.DRILL_CHART, "title"), "children"),
    Output(ids.DRILL_CHART, "figure"),
    Output(ids.part(ids.DRILL_CHART, "summary"), "children"),
    Output(ids.part(ids.DRILL_CHART, "download"), "href"),
    Output(ids.DRILL_TABLE, "children"),
    Input(ids.URL, "search"),
    *BAR_STATE,
)
def refresh(search: Any, *bar: Any) -> tuple[Any, ...]:
    with opened_view(search, page=PATH) as view:
        sync_filter_bar(view, search, bar)
        level = drill_level(view.filters)
        dimension, label, code, noun, _ = LEVELS[level]
        if dimension == "age_group":
            frame = by_age = report.counts(view.conn, view.scope, view.filters, [dimension], view.names)
        else:
            by_age = report.counts(view.conn, view.scope, view.filters, [dimension, "age_group"], view.names)
            frame = report.rollup(by_age, [dimension])
        period = period_label(view.filters, view.options)
        items = crumb_items(view)
        where = " › ".join(text for text, _ in items[1:]) or view.scope.label
        title = f"Deaths in hospital by {noun}: {where}, {period}"
        if level in ("trust", "site"):
            figure = figures.horizontal_bars(frame, label, code)
        else:
            colours = figures.PLACE_COLOURS if level == "place" else figures.AGE_COLOURS
            figure = figures.column_bars(frame, label, code, colours=colours)
        total = int(frame["deaths"].sum()) if frame.height else 0
        summary = f"{total:,} deaths in {frame.height} {noun}{'s' if frame.height != 1 else ''}." + (
            chart_limit_note(frame.height, figures.BAR_LIMIT)
        )
        wide = pivot_by_age(by_age, label) if dimension != "age_group" else frame.select(label, "deaths")
        numeric = [c for c in wide.columns if c != label]
        columns = [(label, noun.capitalize()), *((c, "Deaths" if c == "deaths" else c) for c in numeric)]
        counts_table = html.Div(
            [
                html.H2(f"Counts by {noun} and age group" if dimension != "age_group" else "Counts by age group"),
                table(wide, columns, f"Deaths in hospital by {noun}, {period}", numeric=numeric),
                html.P(
                    html.A(
                        "Download every trust, hospital, place and age group (CSV)",
                        href=download_href("trust-site-place-age", view.query()),
                        className="download",
                    )
                ),
                html.P(
                    html.A(
                        "Download the same for publication: counts of 1-4, and cells that would reveal "
                        "them, shown as [c] (CSV)",
                        href=download_href("trust-site-place-age", view.query(suppress="1")),
                        className="download",
                    )
                ),
            ]
        )
        return (crumbs(items), title, figure, summary, download_href(_download_name(level), view.query()), counts_table)


def _download_name(level: str) -> str:
    return {"trust": "by-trust", "site": "by-site", "place": "by-place", "age_group": "by-age-group"}[level]


@callbacks(
    Output(ids.URL, "search", allow_duplicate=True),
    Input(ids.DRILL_CHART, "clickData"),
    State(ids.URL, "search"),
    prevent_initial_call=True,
)
def drill_down(click: Any, search: Any) -> str:
    """A click on a bar goes one level down, filtering by what it shows."""
    with opened_view(search) as view:
        level = drill_level(view.filters)
        field = LEVELS[level][4]
        allowed = {
            "trust_codes": view.options.trusts,
            "site_codes": view.options.sites,
            "places": view.options.places,
            "age_groups": view.options.age_groups,
        }[field]
        code = clicked_code(click, allowed)
        if code is None:
            raise PreventUpdate
        return view.with_filters(**{field: (code,)}, **dict.fromkeys(DEEPER[field], ()))

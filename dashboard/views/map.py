"""Map: the footprint's hospitals, its areas, and where the children who died in them lived.

Drawn with the cartesian traces the app's plotly.js bundle holds
(``dashboard.ui.map_figure``), from boundaries prepared offline
(``queries.geography``). What is counted comes from the scoped queries, so an
area outside the footprint is drawn only as the home of a child who died in
one of its hospitals. A click on a hospital or an area sets the filter bar, as
a bar click does; the tables beside the map are its text alternative.
"""

from __future__ import annotations

from typing import Any

import polars as pl
from dash import Input, Output, State, html

from dashboard.callbacks import Callbacks
from dashboard.context import View, mapping_in_force, opened_view, services
from dashboard.pack.spec import PackTable
from dashboard.ui import ids, toggles
from dashboard.ui.clicks import bar_clicks_filter, download_href
from dashboard.ui.components import chart_card, table
from dashboard.ui.filter_bar import BAR_STATE, sync_filter_bar
from dashboard.ui.map_figure import Hospital, MapData, hospitals_from, map_figure, site_points
from dashboard.ui.text import number, period_label, share
from dashboard.urlstate import first
from queries import codes, report
from queries.geography import ATTRIBUTION, Line, geography

callbacks = Callbacks()
PATH = "/map"
NAME = "Map"
# its tables in the panel pack (dashboard.pack): the map's text alternative, as its CSVs
PACK = (
    PackTable(
        "map-hospitals",
        "Deaths in each hospital by where the child lived",
        "site_name",
        "residence_group_label",
        drop=("latitude", "longitude"),
    ),
    PackTable("map-residence", "Deaths in hospital by the child's area of residence", "area_name"),
)

# the least deaths an area and a hospital must share for a line between them (URL ``lines``)
LINE_CHOICES = {"1": "1", "2": "2", "3": "3", "5": "5", "10": "10", "20": "20"}
DEFAULT_LINES = "1"
LINE_BUTTONS = {key: f"{ids.GEO_LINES}-{key}" for key in LINE_CHOICES}
OUTSIDE_ENGLAND = (*codes.NON_ENGLAND_RESIDENCE, codes.RESIDENCE_NOT_KNOWN)
# the most lines drawn: all England at 100x the national volume pairs nearly every area with every
# hospital, and tens of thousands of hairlines would say nothing and weigh megabytes
FLOW_LIMIT = 2500
CLICK_HINT = (
    "Select a hospital to filter every view by it, or the middle of an area to filter by where the children lived. "
    "Drag to move the map; scroll or use the buttons above it to zoom."
)


def layout(lines: str = DEFAULT_LINES, **_query: Any) -> html.Div:
    return html.Div(
        [
            html.H1("Map"),
            html.P(id=ids.GEO_PERIOD, className="lede"),
            html.Div(
                className="controls",
                children=[
                    toggles.toggle_group(
                        "Lines from home to hospital for at least (deaths)",
                        LINE_BUTTONS,
                        LINE_CHOICES,
                        lines if lines in LINE_CHOICES else DEFAULT_LINES,
                    )
                ],
            ),
            html.Div(
                className="grid",
                children=[
                    chart_card(ids.GEO_MAP, "Where the children lived", wide=True, hint=CLICK_HINT),
                    html.Section(
                        className="card wide",
                        **{"aria-labelledby": f"{ids.GEO_OUTSIDE}-title"},
                        children=[
                            html.H2("Children who lived outside England", id=f"{ids.GEO_OUTSIDE}-title"),
                            html.P("They have no area on the map: their deaths are counted here.", className="hint"),
                            html.Div(id=ids.GEO_OUTSIDE),
                        ],
                    ),
                    html.Section(className="card wide", **{"aria-label": "Hospitals"}, id=ids.GEO_HOSPITALS),
                    html.Section(className="card wide", **{"aria-label": "Areas of residence"}, id=ids.GEO_AREAS),
                ],
            ),
            html.P(
                [
                    ATTRIBUTION,
                    " Hospital positions: NHS Organisation Data Service (Open Government Licence v3.0). "
                    "Local authority codes: mySociety (CC BY 4.0) and the Office for National Statistics.",
                ],
                className="hint attribution",
            ),
        ]
    )


def line_threshold(view: View) -> str:
    chosen = first(view.params, "lines")
    return chosen if chosen in LINE_CHOICES else DEFAULT_LINES


def outline(view: View) -> Line:
    """The footprint's outline (for all England, every CDOP's), worked out once per mapping in force:
    from the local authorities each CDOP covers on the scope's day."""
    svc, geo, scope = services(), geography(), view.scope
    if not scope.england:
        return svc.cached(("map-outline", scope.key), lambda: geo.outline(scope.la_codes))
    mapping = mapping_in_force(view.conn)
    groups = {la: cdop.code for cdop in mapping.in_force(scope.day) for la in cdop.la_codes}
    return svc.cached(("map-borders", mapping.version, scope.day), lambda: geo.borders(groups))


def hospital_rows(hospitals: tuple[Hospital, ...]) -> pl.DataFrame:
    rows = sorted(hospitals, key=lambda h: (-h.deaths, h.name))
    return pl.DataFrame(
        {
            "hospital": [h.name for h in rows],
            "trust": [h.trust for h in rows],
            "unit": [codes.HIGHEST_UNITS[h.unit] for h in rows],
            "deaths": [h.deaths for h in rows],
            "non_residents": [h.non_residents for h in rows],
            "share": [share(h.non_residents, h.deaths) for h in rows],
        },
        schema={
            "hospital": pl.String,
            "trust": pl.String,
            "unit": pl.String,
            "deaths": pl.Int64,
            "non_residents": pl.Int64,
            "share": pl.String,
        },
    )


@callbacks(
    Output(ids.GEO_PERIOD, "children"),
    Output(ids.part(ids.GEO_MAP, "title"), "children"),
    Output(ids.GEO_MAP, "figure"),
    Output(ids.part(ids.GEO_MAP, "summary"), "children"),
    Output(ids.part(ids.GEO_MAP, "download"), "href"),
    Output(ids.GEO_OUTSIDE, "children"),
    Output(ids.GEO_HOSPITALS, "children"),
    Output(ids.GEO_AREAS, "children"),
    *(Output(button, prop) for button in LINE_BUTTONS.values() for prop in ("aria-pressed", "className")),
    Input(ids.URL, "search"),
    *BAR_STATE,
)
def refresh(search: Any, *bar: Any) -> tuple[Any, ...]:
    with opened_view(search, page=PATH) as view:
        sync_filter_bar(view, search, bar)
        svc, scope, conn, version = services(), view.scope, view.conn, view.facts.version
        lines = line_threshold(view)
        sites = svc.cached(("map-sites", scope.key, version), lambda: report.hospital_sites(conn, scope))
        names = svc.cached(("area-names", version), lambda: report.area_names(conn))
        least = int(lines)
        counted = report.map_counts(conn, scope, view.filters, least, FLOW_LIMIT, view.names)
        points = svc.cached(("map-points", scope.key, version), lambda: site_points(sites))
        hospitals = hospitals_from(sites, points, counted.places, counted.residence)
        by_area: dict[str, int] = {}
        groups: dict[str, str] = {}
        for area, group, deaths in counted.areas.select(
            "residence_area", "residence_group_label", "deaths"
        ).iter_rows():
            by_area[area] = by_area.get(area, 0) + deaths
            groups[area] = group
        data = MapData(
            footprint=scope.la_codes,
            outline=outline(view),
            areas={a: n for a, n in by_area.items() if a not in OUTSIDE_ENGLAND},
            names=names,
            hospitals=hospitals,
            flows=tuple(counted.flows),
            england=scope.england,
        )
        figure = map_figure(geography(), data)
        period = period_label(view.filters, view.options)
        where = "in hospitals in England" if scope.england else f"in hospitals of {scope.label}"
        title = f"Where the children who died {where} lived, {period}"
        areas_frame = pl.DataFrame(
            {
                "area": [names.get(a, a) for a in by_area],
                "lived": [groups[a] for a in by_area],
                "deaths": list(by_area.values()),
            },
            schema={"area": pl.String, "lived": pl.String, "deaths": pl.Int64},
        ).sort(["deaths", "area"], descending=[True, False])
        return (
            f"Deaths {where}, {period}, and where the children lived.",
            title,
            figure,
            summary(data, by_area, names, least) + flow_limit_note(counted.pairs),
            download_href("map-residence", view.query()),
            outside_list(by_area),
            hospitals_section(view, hospitals, period),
            areas_section(view, areas_frame, period),
            *toggles.pressed_states(LINE_CHOICES, lines),
        )


def summary(data: MapData, by_area: dict[str, int], names: dict[str, str], least: int) -> str:
    """The map in words: its text alternative, beside the tables."""
    with_deaths = [h for h in data.hospitals if h.deaths]
    england = {a: n for a, n in by_area.items() if a not in OUTSIDE_ENGLAND}
    inside = set(data.footprint)
    away = sorted(((n, names.get(a, a)) for a, n in england.items() if a not in inside), reverse=True)[:5]
    text = (
        f"{len(data.hospitals)} hospital{'s' if len(data.hospitals) != 1 else ''} drawn, "
        f"{len(with_deaths)} with deaths in view. The children lived in {len(england)} area"
        f"{'s' if len(england) != 1 else ''} of England"
    )
    if not data.england:
        text += f", {sum(a in inside for a in england)} of them in this footprint"
        text += "; most from outside it: " + ", ".join(f"{name} ({n:,})" for n, name in away) + "." if away else "."
    else:
        text += "."
    outside = sum(by_area.get(a, 0) for a in OUTSIDE_ENGLAND)
    plural = "s" if least != 1 else ""
    return (
        text
        + f" {outside:,} lived outside England or not known. Lines join areas and hospitals with at least "
        + (f"{least} death{plural} in common.")
    )


def flow_limit_note(pairs: int) -> str:
    if pairs <= FLOW_LIMIT:
        return ""
    return f" Only the {FLOW_LIMIT:,} pairs with most deaths of {pairs:,} have a line: choose a higher threshold."


def outside_list(by_area: dict[str, int]) -> html.Ul:
    labels = {**codes.NON_ENGLAND_RESIDENCE, codes.RESIDENCE_NOT_KNOWN: "Home not known"}
    return html.Ul(
        [html.Li([html.Span(labels[code]), ": ", html.Strong(number(by_area.get(code, 0)))]) for code in labels],
        className="plain-list",
    )


def hospitals_section(view: View, hospitals: tuple[Hospital, ...], period: str) -> list[Any]:
    frame = hospital_rows(hospitals)
    columns = [
        ("hospital", "Hospital"),
        ("trust", "Trust"),
        ("unit", "Highest unit"),
        ("deaths", "Deaths"),
        ("non_residents", "Non-residents"),
        ("share", "Share non-resident"),
    ]
    return [
        html.H2("Hospitals"),
        table(frame, columns, f"Deaths by hospital, {period}", numeric=["deaths", "non_residents", "share"]),
        *csv_links("map-hospitals", view, "every hospital by where the children lived"),
    ]


def areas_section(view: View, frame: pl.DataFrame, period: str) -> list[Any]:
    columns = [("area", "Area of residence"), ("lived", "Lived"), ("deaths", "Deaths")]
    return [
        html.H2("Areas of residence"),
        table(frame, columns, f"Deaths by where the children lived, {period}"),
        *csv_links("map-residence", view, "every area of residence"),
    ]


def csv_links(name: str, view: View, what: str) -> list[html.P]:
    return [
        html.P(html.A(f"Download {what} (CSV)", href=download_href(name, view.query()), className="download")),
        html.P(
            html.A(
                "The same for publication: counts of 1-4, and cells that would reveal them, shown as [c] (CSV)",
                href=download_href(name, view.query(suppress="1")),
                className="download",
            )
        ),
    ]


LINES = toggles.Choice("lines", LINE_BUTTONS, DEFAULT_LINES)


@callbacks(
    Output(ids.URL, "search", allow_duplicate=True),
    *toggles.button_inputs([LINES]),
    State(ids.URL, "search"),
    prevent_initial_call=True,
)
def choose_lines(*values: Any) -> str:
    """A pressed threshold goes into the URL (so the view can be bookmarked)."""
    return toggles.chosen_query(values[-1], [LINES])


# a click on a hospital filters every view by it; on an area, by where the children lived
bar_clicks_filter(
    callbacks,
    {ids.GEO_MAP: [(ids.FILTER_SITE, (ids.FILTER_TRUST,)), (ids.FILTER_AREA, (ids.FILTER_RESIDENCE,))]},
)

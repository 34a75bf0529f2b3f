"""Overview: headline figures and the four charts every panel starts from."""

from __future__ import annotations

from typing import Any

import polars as pl
from dash import Input, Output, html

from dashboard.callbacks import Callbacks
from dashboard.context import View, opened_view
from dashboard.pack.spec import PackTable
from dashboard.review_tables import beside_england, with_england
from dashboard.ui import figures, ids, unchanged
from dashboard.ui.clicks import bar_clicks_filter, download_href
from dashboard.ui.components import (
    Tile,
    card_outputs,
    card_values,
    chart_card,
    colour_key,
    tile,
    tile_outputs,
    tile_slots,
    tile_values,
)
from dashboard.ui.filter_bar import BAR_STATE, sync_filter_bar
from dashboard.ui.text import chart_limit_note, number, period_label, share
from queries import codes, report

callbacks = Callbacks()
PATH = "/"
NAME = "Overview"

# what the page counts by: trust and place, age group, quarter, and residence and review for the headline
BREAKDOWNS = [["trust", "place"], ["age_group"], ["quarter"], ["residence_group", "review_group"]]
CHARTS = (ids.OVERVIEW_TRUST, ids.OVERVIEW_AGE, ids.OVERVIEW_PLACE, ids.OVERVIEW_TREND)
HEADLINE_TILES = 6
# its tables in the panel pack (dashboard.pack): the CSVs its cards link to
PACK = (
    PackTable("headline", "Headline figures: deaths in hospital", "measure", chart="none"),
    PackTable("by-trust-and-place", "Deaths in hospital by trust and place in hospital", "trust_name", "place_label"),
    PackTable("by-age-group", "Deaths in hospital by age group", "age_group_label", chart="column"),
    PackTable("by-place", "Deaths by place in hospital", "place_label"),
    PackTable(
        "trend", "Deaths in hospital by financial quarter", "period", chart="column", settings={"grain": "quarter"}
    ),
)


def layout(**_query: Any) -> html.Div:
    return html.Div(
        [
            html.H1("Overview"),
            html.P(id=ids.OVERVIEW_PERIOD, className="lede"),
            html.Div(
                tile_slots(ids.OVERVIEW_HEADLINE, HEADLINE_TILES),
                id=ids.OVERVIEW_HEADLINE,
                className="tiles",
                **{"aria-live": "polite"},
            ),
            html.Div(
                className="grid",
                children=[
                    chart_card(
                        ids.OVERVIEW_TRUST,
                        "Deaths in hospital by trust and place in hospital",
                        clickable=True,
                        wide=True,
                        key=colour_key(figures.PLACE_COLOURS, codes.PLACES_IN_HOSPITAL),
                    ),
                    chart_card(ids.OVERVIEW_AGE, "Deaths in hospital by age group", clickable=True),
                    chart_card(ids.OVERVIEW_PLACE, "Deaths by place in hospital", clickable=True),
                    chart_card(ids.OVERVIEW_TREND, "Deaths in hospital by financial quarter", wide=True),
                ],
            ),
        ]
    )


def headline_tiles(head: dict[str, int], view: View) -> list[Tile]:
    deaths = head["deaths"]
    england = view.scope.england
    here = "in England" if england else "of this footprint"
    return [
        tile(
            "Deaths in hospitals in this footprint" if not england else "Deaths in hospitals in England",
            number(deaths),
            "residents and non-residents alike",
        ),
        tile(f"Residents {here}", number(head["residents"]), f"{share(head['residents'], deaths)} of deaths"),
        tile(
            "Non-residents",
            number(head["non_residents"]),
            with_england(
                f"{share(head['non_residents'], deaths)} of deaths: "
                f"{number(head['residents_elsewhere_in_england'])} elsewhere in England, "
                f"{number(head['residents_of_wales_scotland_ni'])} Wales, Scotland or NI, "
                f"{number(head['residents_outside_uk'])} outside the UK"
                + (f", {number(head['residence_not_known'])} not known" if head["residence_not_known"] else ""),
                view,
                "non_residents",
                head["non_residents"],
                deaths,
            ),
            tone="highlight" if head["non_residents"] else "",
        ),
        tile(
            "Reviewed by the local CDOP",
            number(head["reviewed_by_local_cdop"]),
            f"{share(head['reviewed_by_local_cdop'], deaths)} of deaths",
        ),
        tile(
            "Reviewed by another CDOP",
            number(head["reviewed_by_another_cdop"]),
            with_england(
                f"{share(head['reviewed_by_another_cdop'], deaths)} of deaths",
                view,
                "reviewed_elsewhere",
                head["reviewed_by_another_cdop"],
                deaths,
            ),
        ),
        tile(
            "Not yet assigned a reviewing CDOP",
            number(head["not_yet_assigned"]),
            with_england(
                f"{share(head['not_yet_assigned'], deaths)} of deaths",
                view,
                "unassigned",
                head["not_yet_assigned"],
                deaths,
            ),
            tone="warning" if head["not_yet_assigned"] else "",
        ),
    ]


def non_resident_note(head: dict[str, int], england: bool) -> str:
    parts = [] if england else [f"{number(head['residents_elsewhere_in_england'])} elsewhere in England"]
    parts += [
        f"{number(head['residents_of_wales_scotland_ni'])} Wales, Scotland or NI",
        f"{number(head['residents_outside_uk'])} outside the UK",
    ]
    if head["residence_not_known"]:
        parts.append(f"{number(head['residence_not_known'])} residence not known")
    return ", ".join(parts)


# the places whose shares the Reviews page compares with England: (its measure, its places, its name here)
COMPARED_PLACES = (
    ("neonatal_unit", ("nicu", "lnu", "scu"), "neonatal units"),
    ("picu", ("picu",), "PICU"),
    ("ed", ("ed",), "emergency departments"),
)


def place_shares(view: View, places: pl.DataFrame, deaths: int) -> str:
    """ " Neonatal units 42% (England 43%, similar); ..." for a footprint's view; empty for all England."""
    if view.scope.england or not deaths:
        return ""
    counts = dict(zip(places["place"].to_list(), places["deaths"].to_list(), strict=True))
    parts = []
    for measure, codes_, name in COMPARED_PLACES:
        count = sum(counts.get(code, 0) for code in codes_)
        beside = beside_england(view, measure, count, deaths)
        if beside:
            parts.append(f"{name} {share(count, deaths)} ({beside})")
    return " Shares: " + "; ".join(parts) + "." if parts else ""


def listing(frame: pl.DataFrame, label: str) -> str:
    parts = [f"{name}: {count:,}" for name, count in frame.select(label, "deaths").iter_rows() if count]
    return "; ".join(parts) + "." if parts else "No deaths."


# the page's text, set only where it differs from what the browser shows, and not as outputs of the
# callback (``dashboard.ui.unchanged``)
TEXT = (
    Output(ids.OVERVIEW_PERIOD, "children"),
    *tile_outputs(ids.OVERVIEW_HEADLINE, HEADLINE_TILES),
    *card_outputs(CHARTS),
)


@callbacks(
    *(Output(name, "figure") for name in CHARTS),
    Input(ids.URL, "search"),
    *BAR_STATE,
    *unchanged.held(TEXT),
)
def refresh(search: Any, *states: Any) -> tuple[Any, ...]:
    bar, shown = states[: len(BAR_STATE)], states[len(BAR_STATE) :]
    with opened_view(search, page=PATH) as view:
        sync_filter_bar(view, search, bar)
        conn, scope, filters = view.conn, view.scope, view.filters
        period = period_label(filters, view.options)
        # one statement for every breakdown
        trust_place, ages, by_quarter, groups = report.counts_many(conn, scope, filters, BREAKDOWNS, view.names)
        head = report.headline_from(groups).row(0, named=True)
        places = report.rollup(trust_place, ["place"])
        quarters = report.periods(by_quarter, filters, "quarter")
        query = view.query()
        trusts = trust_place.group_by("trust_name").agg(pl.col("deaths").sum()).sort("deaths", descending=True)
        top = trusts.row(0) if trusts.height else None
        parts = {
            ids.OVERVIEW_TRUST: (
                f"Deaths in hospital by trust and place in hospital, {period}",
                f"{trusts.height} trust{'s' if trusts.height != 1 else ''} had deaths; most at {top[0]} ({top[1]:,})."
                + chart_limit_note(trusts.height, figures.BAR_LIMIT)
                if top
                else "No deaths.",
                download_href("by-trust-and-place", query),
            ),
            ids.OVERVIEW_AGE: (
                f"Deaths in hospital by age group, {period}",
                listing(ages, "age_group_label"),
                download_href("by-age-group", query),
            ),
            ids.OVERVIEW_PLACE: (
                f"Deaths by place in hospital, {period}",
                listing(places, "place_label") + place_shares(view, places, head["deaths"]),
                download_href("by-place", query),
            ),
            ids.OVERVIEW_TREND: (
                f"Deaths in hospital by financial quarter, {period}",
                listing(quarters, "period"),
                download_href("trend", view.query(grain="quarter")),
            ),
        }
        figs = (
            figures.stacked_horizontal(
                trust_place, "trust_name", "trust_code", "place", "place_label", figures.PLACE_COLOURS, legend=False
            ),
            figures.column_bars(ages, "age_group_label", "age_group", colours=figures.AGE_COLOURS),
            figures.horizontal_bars(places, "place_label", "place"),
            figures.trend(quarters, bars=True),
        )
        text = (
            f"Deaths in hospitals of {scope.label}, {period}.",
            *tile_values(headline_tiles(head, view), HEADLINE_TILES),
            *card_values(parts, CHARTS),
        )
        unchanged.set_changed(TEXT, text, shown)
        return figs


# a click on a bar filters every view by what it shows
bar_clicks_filter(
    callbacks,
    {
        ids.OVERVIEW_TRUST: (ids.FILTER_TRUST, (ids.FILTER_SITE,)),
        ids.OVERVIEW_AGE: (ids.FILTER_AGE, ()),
        ids.OVERVIEW_PLACE: (ids.FILTER_PLACE, ()),
    },
)

"""About the data: what the report covers, what it does not, and every code."""

from __future__ import annotations

from typing import Any

from dash import Input, Output, html

from dashboard import review_tables
from dashboard.callbacks import Callbacks
from dashboard.context import opened_view
from dashboard.ui import ids
from dashboard.ui.filter_bar import BAR_STATE, sync_filter_bar
from dashboard.ui.text import long_date, number
from queries import codes, report
from queries.filters import Filters

callbacks = Callbacks()
PATH = "/about"
NAME = "About the data"


def definitions(title: str, entries: dict[Any, str], note: str | None = None) -> html.Section:
    return html.Section(
        [
            html.H3(title),
            html.P(note) if note else None,
            html.Dl([item for code, label in entries.items() for item in (html.Dt(label), html.Dd(f"code: {code}"))]),
        ]
    )


def layout(**_query: Any) -> html.Div:
    return html.Div(
        className="prose",
        children=[
            html.H1("About the data"),
            html.Div(id=ids.ABOUT_FACTS, **{"aria-live": "polite"}),
            html.H2("What this report shows"),
            html.P(
                "Every death of a child (from birth to the 18th birthday) that happened in a hospital within your "
                "CDOP's footprint, whether or not the child lived in your area, broken down by trust, hospital, "
                "place in the hospital and age group, and which CDOP is reviewing each death."
            ),
            html.P(
                "A CDOP must review the deaths of children normally resident in its area, wherever they died. So "
                "deaths in your hospitals are often reviewed by another CDOP: a baby transferred to a tertiary "
                "neonatal unit, a teenager flown to a major trauma centre. This report makes those deaths visible "
                "to the panel whose hospitals they happened in."
            ),
            html.P(
                "Each trust is mapped to the CDOP footprint(s) it lies in; you see the trusts in your footprint "
                "as it stands today, for every date. A trust with hospitals in two footprints is seen by both."
            ),
            html.H2("What this report does not show"),
            html.Ul(
                [
                    html.Li("Deaths whose place of death was not a hospital (home, community, hospice)."),
                    html.Li("Deaths in hospital trusts outside England."),
                    html.Li("Rates of death."),
                    html.Li(
                        "Deaths your CDOP reviews that happened in a hospital outside your footprint. NCMD gives "
                        "these in the quarterly Data Quality and Monitoring Report."
                    ),
                ]
            ),
            html.H2("Definitions"),
            html.P(
                "Financial years run from 1 April to 31 March; quarters are financial quarters (Q1 is April to "
                "June). Ages are completed days or years at death."
            ),
            definitions(
                "Place in hospital",
                codes.PLACES_IN_HOSPITAL,
                "A proposed code list: NCMD's own is not public. Neonatal unit levels follow BAPM.",
            ),
            definitions("Age group", codes.AGE_GROUPS, "NCMD's age bands."),
            definitions(
                "Residence",
                codes.RESIDENCE_GROUPS,
                "Where the child normally lived, relative to the footprint you are looking at.",
            ),
            definitions(
                "Who reviews",
                codes.REVIEW_GROUPS,
                "The local CDOP is one whose footprint includes the hospital (or one it merged into).",
            ),
            definitions("Review status", codes.REVIEW_STATUSES),
            definitions("Expected death", codes.EXPECTED_DEATH),
            definitions(
                "Category of death", codes.CATEGORIES_OF_DEATH, "Set at panel; the highest category that applies."
            ),
            definitions("Sex", codes.SEXES),
            html.H2("Reviews: timeliness and England", id="reviews-definitions"),
            html.P("How the Reviews page counts (the same text is on the page):"),
            html.Ul([html.Li(text) for text in review_tables.DEFINITIONS]),
            html.P(
                "On the Overview and Reviewing CDOPs pages, the notes under the non-residents, reviewed by "
                "another CDOP and not yet assigned figures give England's share the same way: 'higher here' "
                "or 'lower here' when England's share lies outside the footprint's 95% interval. For England, "
                "a non-resident is a child who did not live in the footprint of a CDOP holding the hospital's "
                "trust, so England's share is what every footprint's deaths would give together."
            ),
            html.H2("Privacy"),
            html.P("Cases are shown with a pseudonymous reference, never NCMD's case number or any name."),
            html.P(
                "Tables of counts can be downloaded for publication (the trusts page's counts table offers one; "
                "any table's download address takes suppress=1). In them a count of 1 to 4 is hidden, and "
                "so that no such count can be worked out by subtracting the other cells of its row, column or "
                "total from that total, more cells are hidden too: each time a hidden count could still be worked "
                "out, the smallest non-zero count beside it (or a total) is hidden as well, until none can. Every "
                "hidden cell is shown as '[c]', whichever kind it is, since telling them apart would narrow the "
                "small ones down. The total of deaths in view is stated on every page and is never hidden. "
                "A 0 is shown as 0 and never hidden. Each table is protected on its own: tables published side "
                "by side (a breakdown by trust and one by place, say) can still give away a small count together, so "
                "publish one breakdown, or check them together. In the Reviews page's tables, a share, its "
                "interval and its comparison with England are hidden wherever the count or total they come from "
                "is. Lists of deaths have no version for publication."
            ),
        ],
    )


@callbacks(Output(ids.ABOUT_FACTS, "children"), Input(ids.URL, "search"), *BAR_STATE)
def facts(search: Any, *bar: Any) -> list[Any]:
    with opened_view(search, page=PATH) as view:
        sync_filter_bar(view, search, bar)
        store = view.facts
        # only what this footprint holds: the size of the national store is not a CDOP user's to know
        in_footprint = int(report.headline(view.conn, view.scope, Filters())["deaths"][0])
        out: list[Any] = []
        if store.synthetic:
            out.append(
                html.Div(
                    className="synthetic-banner",
                    role="note",
                    children=(
                        "This app is showing SYNTHETIC data: every death is generated for demonstration, calibrated to "
                        "published national figures. No real child's information is here."
                    ),
                )
            )
        out.append(
            html.P(
                [
                    f"Data as at {long_date(store.as_at)}. " if store.as_at else "",
                    f"You are viewing: {view.scope.label}. The data holds {number(in_footprint)} deaths in its "
                    "hospitals (all dates, before any filter).",
                ]
            )
        )
        return out

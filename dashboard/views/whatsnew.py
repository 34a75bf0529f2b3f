"""What's new: deaths in the footprint's hospitals that arrived since the user last looked,
grouped so that the ones a local panel may not know about come first; and the
"new" indicator shown in the navigation on every page."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

import polars as pl
from dash import Input, Output, State, ctx, dcc, html, no_update
from dash.exceptions import PreventUpdate
from flask import request

from dashboard import newness
from dashboard.callbacks import Callbacks
from dashboard.context import opened_view, services
from dashboard.ui import ids
from dashboard.ui.clicks import download_href
from dashboard.ui.components import table
from dashboard.ui.filter_bar import BAR_STATE, sync_filter_bar
from dashboard.ui.text import long_date, number
from dashboard.ui.toggles import pressed_states, toggle_group
from operational import audit, visits
from queries import whatsnew

callbacks = Callbacks()
PATH = "/new"
NAME = "What's new"
NAV = ids.nav_link("whatsnew")
USES_FILTERS = False  # the list is every new death in the footprint: filters must not hide one

SINCE_BUTTONS = {key: f"{ids.WHATSNEW_SINCE}-{key}" for key in newness.CHOICES}
LIST_COLUMNS = [
    ("case_ref", "Case"),
    ("date_of_death", "Date of death"),
    ("site_name", "Hospital"),
    ("place", "Place in hospital"),
    ("age_group", "Age group"),
    ("residence_group", "Residence"),
    ("reviewing_cdop", "Reviewing CDOP"),
    ("days_since_notification", "Days since notification"),
    ("entered_store", "Arrived"),
    ("attention", "Attention"),
]
GROUP_PHRASES = {
    "elsewhere": "non-residents reviewed by another CDOP",
    "unassigned": "no reviewing CDOP yet",
    "residents": "residents",
    "local": "non-residents reviewed by a CDOP of this footprint",
}
EXPLAIN_MARK = (
    "Your last visit is the moment you last marked this list as seen; before you first do, it is when you first "
    "opened the dashboard. Opening pages does not move it, so a death is never missed because you only glanced at "
    "the dashboard. Marking the list as seen moves your own mark only: colleagues keep theirs, and no data change."
)


def layout(**_query: Any) -> html.Div:
    return html.Div(
        [
            html.H1("What's new in your hospitals"),
            html.P(
                "Deaths in the hospitals of your footprint that arrived in the data since you last looked: "
                "residents and non-residents alike, whoever reviews them. " + EXPLAIN_MARK,
                className="lede",
            ),
            html.Div(
                className="controls",
                children=[
                    toggle_group("Show deaths that arrived", SINCE_BUTTONS, newness.CHOICES, newness.LAST_VISIT),
                    html.Div(
                        className="field",
                        children=[
                            html.Label("Or since a date", htmlFor=ids.WHATSNEW_DATE),
                            dcc.Input(id=ids.WHATSNEW_DATE, type="date", className="date-input"),
                            html.Button(
                                "Show", id=ids.WHATSNEW_DATE_GO, n_clicks=0, type="button", className="button secondary"
                            ),
                        ],
                    ),
                ],
            ),
            html.P(id=ids.WHATSNEW_DATE_MESSAGE, className="notice error", role="alert", style={"display": "none"}),
            html.P(id=ids.WHATSNEW_MESSAGE, className="notice error", role="alert", style={"display": "none"}),
            dcc.Store(id=ids.WHATSNEW_AS_OF),
            html.Div(
                className="card",
                children=[
                    html.P(id=ids.WHATSNEW_SUMMARY, **{"aria-live": "polite"}),
                    html.P(
                        [
                            html.A("Download this list (CSV)", id=ids.WHATSNEW_DOWNLOAD, href="", className="download"),
                            " ",
                            html.Button(
                                "Mark this list as seen",
                                id=ids.WHATSNEW_MARK,
                                n_clicks=0,
                                type="button",
                                className="button",
                            ),
                        ]
                    ),
                    html.P(id=ids.WHATSNEW_MARK_STATUS, role="status"),
                    html.P(
                        "The report's filters do not apply here (so they are hidden): this list always holds every "
                        "new death in your footprint, so marking it as seen never passes over one you were not "
                        "shown. Days since "
                        "notification, and the attention flags, are counted to the data's as-at date.",
                        className="hint",
                    ),
                ],
            ),
            html.Div(id=ids.WHATSNEW_LIST),
            html.Section(id=ids.WHATSNEW_ATTENTION, className="card", **{"aria-label": "Needing attention"}),
        ]
    )


def group_sections(frame: pl.DataFrame, where: str) -> list[Any]:
    """One titled table per group that has deaths, in the groups' order."""
    sections = []
    for code, title in whatsnew.GROUPS.items():
        rows = frame.filter(pl.col("group_code") == code)
        if rows.height == 0:
            continue
        heading = f"{title}: {number(rows.height)}"
        sections.append(
            html.Section(
                className="card whatsnew-group",
                **{"aria-label": title},
                children=[
                    html.H2(heading),
                    table(rows, LIST_COLUMNS, f"{title}, {where}", numeric=("days_since_notification",)),
                ],
            )
        )
    return sections


def summary_text(frame: pl.DataFrame, scope_label: str, when: str) -> str:
    if frame.height == 0:
        return f"No deaths in hospitals of {scope_label} arrived {when}."
    counts = frame["group_code"].value_counts()
    by_group = dict(zip(counts["group_code"], counts["count"], strict=True))
    parts = [f"{GROUP_PHRASES[code]}: {number(by_group[code])}" for code in whatsnew.GROUPS if by_group.get(code)]
    listed = "; ".join(parts)
    return (
        f"{number(frame.height)} deaths in hospitals of {scope_label} arrived {when}. {listed[0].upper()}{listed[1:]}."
    )


def attention_section(counts: dict[str, int], labels: dict[str, str], rule_day: date) -> list[Any]:
    explained = {
        "unassigned": "no reviewing CDOP assigned",
        "elsewhere": "reviewed by a CDOP that is neither where the child lived nor one whose footprint holds the "
        "hospital",
        "open": "review still open",
    }
    return [
        html.H2("Needing attention, whenever the deaths arrived"),
        html.P(
            f"Deaths in your hospitals that the flags pick out, counted to the data's as-at date "
            f"({long_date(rule_day)}). The Cases page shows the flags of each death in its Attention column "
            "(sort by it to bring them to the top).",
            className="hint",
        ),
        html.Ul([html.Li(f"{labels[flag]} ({explained[flag]}): {number(n)}") for flag, n in counts.items()]),
    ]


@callbacks(
    Output(ids.WHATSNEW_SUMMARY, "children"),
    Output(ids.WHATSNEW_LIST, "children"),
    Output(ids.WHATSNEW_ATTENTION, "children"),
    Output(ids.WHATSNEW_DOWNLOAD, "href"),
    Output(ids.WHATSNEW_AS_OF, "data"),
    Output(ids.WHATSNEW_MESSAGE, "children"),
    Output(ids.WHATSNEW_MESSAGE, "style"),
    Output(ids.WHATSNEW_DATE, "value"),
    *(Output(button, prop) for button in SINCE_BUTTONS.values() for prop in ("aria-pressed", "className")),
    Input(ids.URL, "search"),
    Input(ids.SEEN_MARK, "data"),
    *BAR_STATE,
)
def refresh(search: Any, _seen: Any, *bar: Any) -> tuple[Any, ...]:
    """The list for the period in the URL, in the user's own footprint."""
    with opened_view(search, page=PATH) as view:
        sync_filter_bar(view, search, bar)  # the footprint chooser and the URL (the bar itself is hidden here)
        since, problem = newness.since_of(view)
        moment, frame = newness.new_list(view, since)
        rule = newness.rule_for(view)
        counts = whatsnew.attention_counts(view.conn, view.scope, rule)
        as_of = whatsnew.latest_load(view.conn)
        when = newness.describe(since, moment)
        where = f"in hospitals of {view.scope.label}, arrived {when}"
        listed = group_sections(frame, where)
        return (
            summary_text(frame, view.scope.label, when),
            listed,
            attention_section(counts, rule.labels, rule.day),
            download_href("whats-new", view.query()),
            as_of.isoformat() if as_of else None,
            problem,
            None if problem else {"display": "none"},
            since.day.isoformat() if since.day else None,
            *pressed_states(newness.CHOICES, since.choice),
        )


@callbacks(
    Output(ids.URL, "search", allow_duplicate=True),
    Output(ids.WHATSNEW_DATE_MESSAGE, "children"),
    Output(ids.WHATSNEW_DATE_MESSAGE, "style"),
    *(Input(button, "n_clicks") for button in SINCE_BUTTONS.values()),
    Input(ids.WHATSNEW_DATE_GO, "n_clicks"),
    State(ids.WHATSNEW_DATE, "value"),
    State(ids.URL, "search"),
    prevent_initial_call=True,
)
def choose_since(*values: Any) -> tuple[Any, ...]:
    """A pressed choice, or a date, becomes the URL's ``since`` (so the list can be bookmarked)."""
    day, search = values[-2], values[-1]
    pressed = ctx.triggered_id
    by_button = {button: key for key, button in SINCE_BUTTONS.items()}
    if pressed not in (*by_button, ids.WHATSNEW_DATE_GO) or not ctx.triggered[0].get("value"):
        raise PreventUpdate
    raw = by_button.get(pressed, day)
    if not raw:
        return no_update, "Choose a date first, then Show.", None
    with opened_view(search) as view:
        try:
            since = newness.parse_since(raw, date.today())
        except newness.BadSince as error:
            return no_update, str(error), None
        query = view.query(since=since.param)
    return (query if query != (search or "") else no_update), None, {"display": "none"}


@callbacks(
    Output(ids.SEEN_MARK, "data"),
    Output(ids.WHATSNEW_MARK_STATUS, "children"),
    Input(ids.WHATSNEW_MARK, "n_clicks"),
    State(ids.WHATSNEW_AS_OF, "data"),
    State(ids.URL, "search"),
    prevent_initial_call=True,
)
def mark_seen(clicks: Any, as_of: Any, search: Any) -> tuple[Any, ...]:
    """Move the signed-in user's mark up to the data the list was drawn from.
    The browser only says which list it showed; the user is the signed-in one,
    and the mark never goes past what the store holds."""
    if not isinstance(clicks, int) or isinstance(clicks, bool) or clicks < 1:
        raise PreventUpdate
    with opened_view(search) as view:
        newest = whatsnew.latest_load(view.conn)
        shown = _moment(as_of)
        if shown is None or newest is None:
            return no_update, "Nothing was marked: reload the page and try again."
        svc = services()
        mark = visits.mark_seen(svc.engine, view.user.id, min(shown, newest))
        audit.record(
            svc.engine,
            "mark_seen",
            view.user.username,
            request.remote_addr,
            up_to=mark.isoformat(),
            scope=view.scope.label,
        )
    return mark.isoformat(), f"Marked as seen: deaths loaded up to {mark:%d %B %Y, %H:%M} UTC are no longer new to you."


def _moment(value: Any) -> datetime | None:
    if not isinstance(value, str) or len(value) > 40:
        return None
    try:
        moment = datetime.fromisoformat(value)
    except ValueError:
        return None
    return moment.replace(tzinfo=None) if moment.tzinfo is None else None


# The indicator depends on the footprint, not on the other filters: copy the
# URL's footprint into a store in the browser, changing it only when it
# changes, so a filter change costs no request for the indicator.
callbacks.clientside(
    """
    function(search, current) {
        const footprint = new URLSearchParams(search || '').get('footprint') || '';
        return footprint === current ? window.dash_clientside.no_update : footprint;
    }
    """,
    Output(ids.FOOTPRINT_KEY, "data"),
    Input(ids.URL, "search"),
    State(ids.FOOTPRINT_KEY, "data"),
)


@callbacks(
    Output(NAV, "children"),
    Input(ids.URL, "pathname"),
    Input(ids.FOOTPRINT_KEY, "data"),
    Input(ids.SEEN_MARK, "data"),
    State(ids.URL, "search"),
)
def indicator(_path: Any, _footprint: Any, _seen: Any, search: Any) -> list[Any]:
    """The navigation's "What's new" link, with how many deaths in the user's
    footprint are new since their last visit: on every page. The footprint is
    taken from the URL and checked on the server like every other value."""
    with opened_view(search) as view:
        count = newness.new_count(view)
    if not count:
        return [NAME]
    return [
        NAME,
        html.Span(
            [number(count), html.Span(" new since your last visit", className="visually-hidden")],
            className="new-badge",
            id=ids.NEW_COUNT,
        ),
    ]

"""The page shell: header, synthetic-data notice, navigation, the filter bar
shared by every page, and the one callback that keeps filters and URL in step.
"""

from __future__ import annotations

import functools
import json
from datetime import date, timedelta
from typing import Any
from urllib.parse import urlencode

from dash import Input, Output, State, ctx, dcc, html, no_update
from flask import request
from flask_login import current_user
from flask_wtf.csrf import generate_csrf

from dashboard import audit, ids
from dashboard.callbacks import Callbacks
from dashboard.context import services, signed_in_user, view_for
from dashboard.text import filter_summary, long_date, period_label
from dashboard.urlstate import VIEW_PARAMS, first, parse_query
from dashboard.views import BY_PATH, VIEWS, admin_only, key
from queries.store import StoreUnavailable

callbacks = Callbacks()
PAGES: list[tuple[str, str, str]] = [(key(view), view.PATH, view.NAME) for view in VIEWS]
APP_TITLE = "Deaths by hospital trust"
HEALTH_CHECK_MS = 30_000
STORE_DOWN = (
    "The deaths data are unavailable just now (a new extract may be loading, or the store is missing). "
    "This page will recover by itself when they are back."
)
SYNTHETIC_NOTICE = (
    "Synthetic data: every death shown here is made up for demonstration. No real child's information is in this app."
)


def layout() -> html.Div:
    if not current_user.is_authenticated:
        # Dash validates the layout on the first request, which may be the login
        # page's; the real shell is only ever served to a signed-in user.
        return html.Div(dcc.Location(id=ids.URL))
    user = signed_in_user()
    try:
        facts = services().store.facts()
        store_problem = None
    except StoreUnavailable:
        facts, store_problem = None, STORE_DOWN
    who = "NCMD administrator" if user.is_admin else ", ".join(user.cdop_codes)
    return html.Div(
        className="shell",
        children=[
            dcc.Location(id=ids.URL, refresh="callback-nav"),
            html.A("Skip to main content", href="#main", className="skip-link"),
            html.Header(
                className="header",
                children=[
                    html.Div(
                        className="brand",
                        children=[
                            html.P("Child Death Overview Panels", className="brand-kicker"),
                            html.P("Deaths by hospital trust", className="brand-title"),
                        ],
                    ),
                    html.Div(
                        className="account",
                        children=[
                            html.Div(
                                id=ids.FOOTPRINT_BOX,
                                className="footprint",
                                style={"display": "none"},
                                children=[
                                    html.Label("Footprint", htmlFor=ids.FOOTPRINT),
                                    dcc.Dropdown(
                                        id=ids.FOOTPRINT,
                                        clearable=False,
                                        searchable=True,
                                        options=[],
                                        className="footprint-select",
                                    ),
                                ],
                            ),
                            html.P(["Signed in as ", html.Strong(user.username), f" · {who}"], className="signed-in"),
                            html.Form(
                                action="/logout",
                                method="post",
                                children=[
                                    dcc.Input(type="hidden", name="csrf_token", value=generate_csrf()),
                                    html.Button("Sign out", type="submit", className="button secondary"),
                                ],
                            ),
                        ],
                    ),
                ],
            ),
            html.Aside(SYNTHETIC_NOTICE, className="synthetic-banner", **{"aria-label": "Synthetic data"})
            if facts is not None and facts.synthetic
            else None,
            html.Div(
                store_problem,
                id=ids.STORE_MESSAGE,
                className="notice error store-message",
                role="alert",
                style=None if store_problem else {"display": "none"},
            ),
            dcc.Interval(id=ids.HEALTH_TIMER, interval=HEALTH_CHECK_MS),
            dcc.Store(id=ids.SEEN_MARK),
            dcc.Store(id=ids.FOOTPRINT_KEY, data=""),
            html.Nav(
                className="nav",
                **{"aria-label": "Views"},
                children=[
                    dcc.Link(
                        name,
                        href=path,
                        id=ids.nav_link(key),
                        className="nav-link",
                        style={"display": "none"} if admin_only(BY_PATH[path]) and not user.is_admin else None,
                    )
                    for key, path, name in PAGES
                ],
            ),
            _filter_bar(),
            dcc.Store(id=ids.PAGE_TITLE),
            html.Main(id=ids.MAIN, className="main", tabIndex="-1"),
            html.Footer(
                className="footer",
                children=[
                    html.P(
                        [
                            "Deaths of children in hospitals in England, in the National Child Mortality "
                            "Database's data model. ",
                            f"Data as at {long_date(facts.as_at)}. " if facts is not None and facts.as_at else "",
                            dcc.Link("What this report covers", href="/about"),
                        ]
                    ),
                ],
            ),
        ],
    )


def _filter_bar() -> html.Section:
    fields = []
    for component_id, (_param, label) in ids.FILTER_DROPDOWNS.items():
        fields.append(
            html.Div(
                className="field",
                children=[
                    html.Label(label, htmlFor=component_id, id=f"{component_id}-label"),
                    dcc.Dropdown(id=component_id, multi=True, options=[], placeholder="All", className="filter-select"),
                ],
            )
        )
        if component_id == ids.FILTER_YEARS:
            for date_id, date_label in ((ids.FILTER_FROM, "Deaths from"), (ids.FILTER_TO, "Deaths up to")):
                fields.append(
                    html.Div(
                        className="field",
                        children=[
                            html.Label(date_label, htmlFor=date_id, id=f"{date_id}-label"),
                            dcc.Dropdown(id=date_id, options=[], placeholder="Any month", className="filter-select"),
                        ],
                    )
                )
    return html.Section(
        className="filters",
        **{"aria-label": "Filters"},
        children=[
            html.H2("Filters", className="visually-hidden"),
            html.Div(className="filter-grid", children=fields),
            html.Div(
                className="filter-actions",
                children=[
                    html.P(id=ids.FILTER_SUMMARY, className="filter-summary", **{"aria-live": "polite"}),
                    html.Button("Reset filters", id=ids.FILTER_RESET, className="button secondary", n_clicks=0),
                ],
            ),
        ],
    )


_DROPDOWNS = list(ids.FILTER_DROPDOWNS)


@callbacks(
    Output(ids.MAIN, "children"),
    Output(ids.PAGE_TITLE, "data"),
    *(Output(ids.nav_link(name), "className") for name, _, _ in PAGES),
    Input(ids.URL, "pathname"),
    State(ids.URL, "search"),
)
def route(pathname: Any, search: Any) -> tuple[Any, ...]:
    """Render a view when the path changes (not when the query changes: each
    view's own callbacks follow the query, so a filter change re-renders nothing)."""
    view = BY_PATH.get(pathname if isinstance(pathname, str) else "")
    classes = ["nav-link active" if view is not None and path == view.PATH else "nav-link" for _, path, _ in PAGES]
    if view is None:
        return not_found(), f"Page not found · {APP_TITLE}", *classes
    user = signed_in_user()
    if admin_only(view) and not user.is_admin:
        audit.record(services().engine, "forbidden", user.username, request.remote_addr, page=view.PATH)
        return access_denied(), f"Access denied · {APP_TITLE}", *classes
    settings = {name: values[0] for name, values in parse_query(search).items() if name in ("grain", "split")}
    return view.layout(**settings), f"{view.NAME} · {APP_TITLE}", *classes


def access_denied() -> html.Div:
    return html.Div(
        [
            html.H1("Access denied"),
            html.P("This page is for NCMD administrators. Your attempt to open it has been recorded."),
        ]
    )


def not_found() -> html.Div:
    return html.Div(
        [
            html.H1("Page not found"),
            html.P(["There is no page at this address. ", dcc.Link("Go to the overview", href="/"), "."]),
        ]
    )


callbacks.clientside(
    "function(title) { if (title) { document.title = title; } return window.dash_clientside.no_update; }",
    Output(ids.PAGE_TITLE, "id"),
    Input(ids.PAGE_TITLE, "data"),
)


@callbacks(
    Output(ids.URL, "search"),
    Output(ids.FOOTPRINT, "value"),
    Output(ids.FOOTPRINT, "options"),
    Output(ids.FOOTPRINT_BOX, "style"),
    *(Output(component, prop) for component in _DROPDOWNS for prop in ("value", "options")),
    Output(ids.FILTER_FROM, "value"),
    Output(ids.FILTER_FROM, "options"),
    Output(ids.FILTER_TO, "value"),
    Output(ids.FILTER_TO, "options"),
    *(Output(ids.nav_link(key), "href") for key, _, _ in PAGES),
    Output(ids.FILTER_SUMMARY, "children"),
    Input(ids.URL, "search"),
    Input(ids.FOOTPRINT, "value"),
    *(Input(component, "value") for component in _DROPDOWNS),
    Input(ids.FILTER_FROM, "value"),
    Input(ids.FILTER_TO, "value"),
    Input(ids.FILTER_RESET, "n_clicks"),
)
def sync_filters(search: Any, footprint: Any, *values: Any) -> tuple[Any, ...]:
    """The URL is the view's state. A new URL sets the controls; a changed
    control (or Reset) writes the URL. Every value is cleaned against the
    signed-in user's own options on the way."""
    dropdown_values = values[: len(_DROPDOWNS)]
    start, end = values[len(_DROPDOWNS)], values[len(_DROPDOWNS) + 1]
    trigger = ctx.triggered_id
    current = parse_query(search)
    kept = {name: first(current, name) for name in VIEW_PARAMS if name != "footprint"}
    if trigger in (None, ids.URL):
        query = search
    elif trigger == ids.FILTER_RESET:
        query = build_query_from({}, footprint=first(current, "footprint"), kept=kept)
    else:
        chosen = {
            param: _as_list(value)
            for (param, _), value in zip(ids.FILTER_DROPDOWNS.values(), dropdown_values, strict=True)
        }
        chosen["from"] = [str(start)[:10]] if start else []
        chosen["to"] = [str(end)[:10]] if end else []
        requested = footprint if trigger == ids.FOOTPRINT else first(current, "footprint")
        query = build_query_from(chosen, footprint=requested if isinstance(requested, str) else None, kept=kept)
    view = view_for(query)
    try:
        show_footprint = len(view.footprints) > 1
        canonical = view.query(**kept)
        options = view.options
        option_lists = {
            ids.FILTER_YEARS: options.financial_years,
            ids.FILTER_TRUST: options.trusts,
            ids.FILTER_SITE: options.sites,
            ids.FILTER_PLACE: options.places,
            ids.FILTER_AGE: options.age_groups,
            ids.FILTER_REVIEWER: options.reviewing_cdops,
            ids.FILTER_RESIDENCE: options.residence_groups,
            ids.FILTER_STATUS: options.review_statuses,
        }
        trust_names = {o.value: o.label for o in options.trusts}
        filters = view.filters
        selected = {
            ids.FILTER_YEARS: [str(y) for y in filters.financial_years],
            ids.FILTER_TRUST: list(filters.trust_codes),
            ids.FILTER_SITE: list(filters.site_codes),
            ids.FILTER_PLACE: list(filters.places),
            ids.FILTER_AGE: list(filters.age_groups),
            ids.FILTER_REVIEWER: list(filters.reviewing_cdops),
            ids.FILTER_RESIDENCE: list(filters.residence_groups),
            ids.FILTER_STATUS: list(filters.review_statuses),
        }
        dropdown_outputs: list[Any] = []
        for component in _DROPDOWNS:
            dropdown_outputs.append(selected[component])
            dropdown_outputs.append(
                [
                    {
                        "label": f"{o.label} ({trust_names.get(o.parent, o.parent)})" if o.parent else o.label,
                        "value": o.value,
                    }
                    for o in option_lists[component]
                ]
            )
        summary = f"Showing deaths in hospitals of {view.scope.label}, {period_label(filters, options)}"
        active = filter_summary(filters, options)
        summary += f"; {'; '.join(active)}." if active else "."
        return (
            canonical if canonical != (search or "") else no_update,
            view.footprint,
            [{"label": o.label, "value": o.value} for o in view.footprints],
            {} if show_footprint else {"display": "none"},
            *dropdown_outputs,
            filters.date_from.isoformat() if filters.date_from else None,
            month_options(options.first_date, options.last_date, filters.date_from, month_end=False),
            filters.date_to.isoformat() if filters.date_to else None,
            month_options(options.first_date, options.last_date, filters.date_to, month_end=True),
            *(f"{path}{canonical}" for _, path, _ in PAGES),
            summary,
        )
    finally:
        view.close()


def month_options(first: date | None, last: date | None, chosen: date | None, *, month_end: bool) -> list[dict]:
    """The months in view, as the first (or last) day of each; a chosen day that
    is not a month boundary (from a bookmark) is offered too, so it shows."""
    return list(_month_options(first, last, chosen, month_end))


@functools.lru_cache(maxsize=256)  # the same few lists on every filter change
def _month_options(
    first: date | None, last: date | None, chosen: date | None, month_end: bool
) -> tuple[dict[str, str], ...]:
    days: list[date] = []
    if first and last:
        year, month = first.year, first.month
        while (year, month) <= (last.year, last.month):
            start = date(year, month, 1)
            days.append(_month_last_day(start) if month_end else start)
            year, month = (year + 1, 1) if month == 12 else (year, month + 1)
    if chosen and chosen not in days:
        days = sorted([*days, chosen])

    def label(day: date) -> str:
        boundary = day == (_month_last_day(day) if month_end else day.replace(day=1))
        return f"{day:%b %Y}" if boundary else long_date(day)

    return tuple({"label": label(day), "value": day.isoformat()} for day in days)


def _month_last_day(day: date) -> date:
    following = date(day.year + (day.month == 12), day.month % 12 + 1, 1)
    return following - timedelta(days=1)


def _as_list(value: Any) -> list[str]:
    if isinstance(value, list):
        return [str(v) for v in value if isinstance(v, (str, int)) and not isinstance(v, bool)]
    if isinstance(value, (str, int)) and not isinstance(value, bool):
        return [str(value)]
    return []


def build_query_from(chosen: dict[str, list[str]], *, footprint: str | None, kept: dict[str, str | None]) -> str:
    """Raw control values to a query string (cleaned later by view_for)."""
    pairs = [(name, value) for name, value in (("footprint", footprint), *kept.items()) if value]
    pairs += [(param, value) for param, values in chosen.items() for value in values]
    return f"?{urlencode(pairs)}" if pairs else ""


# Every 30 seconds (and on arrival) ask /healthz whether the store is readable,
# and say so at the top of the page; the message clears itself on recovery.
callbacks.clientside(
    """
    async function(_n) {
        try {
            const response = await fetch('/healthz', {credentials: 'same-origin', cache: 'no-store'});
            if (response.ok) { return ['', {display: 'none'}]; }
        } catch (error) {
            return ['The server cannot be reached. Check your connection; this page will recover by itself.', {}];
        }
        return [STORE_DOWN_TEXT, {}];
    }
    """.replace("STORE_DOWN_TEXT", json.dumps(STORE_DOWN)),
    Output(ids.STORE_MESSAGE, "children"),
    Output(ids.STORE_MESSAGE, "style"),
    Input(ids.HEALTH_TIMER, "n_intervals"),
)

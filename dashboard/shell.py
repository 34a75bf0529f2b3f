"""The page shell: header, synthetic-data notice, navigation, the filter bar
(``dashboard.ui.filter_bar``) and the router that draws each view.
"""

from __future__ import annotations

import json
from typing import Any, NamedTuple
from urllib.parse import urlsplit

from dash import Input, Output, State, dcc, html, no_update
from flask import request
from flask_login import current_user
from flask_wtf.csrf import generate_csrf

from dashboard.auth.admin_gate import admin_allowed
from dashboard.callbacks import Callbacks
from dashboard.context import services, signed_in_user
from dashboard.ui import ids
from dashboard.ui.filter_bar import filter_bar
from dashboard.ui.page_tools import page_tools
from dashboard.ui.text import long_date
from dashboard.urlstate import parse_query
from dashboard.views import BY_PATH, VIEWS, admin_only, key, uses_filters
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
    first = requested_page()
    drawn = page(*first) if first is not None else None
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
                # plain links that assets/nav-links.js opens in place, carrying the view's query
                children=[
                    html.A(
                        name,
                        href=path,
                        id=ids.nav_link(key),
                        className=drawn.nav_classes[number] if drawn else "nav-link",
                        style={"display": "none"} if admin_only(BY_PATH[path]) and not user.is_admin else None,
                        **{"data-path": path},
                    )
                    for number, (key, path, name) in enumerate(PAGES)
                ],
            ),
            filter_bar(hidden=drawn.hides_filters if drawn else False),
            page_tools(
                hidden=drawn.hides_filters if drawn else False,
                has_pack=drawn.has_pack if drawn else False,
                admin=user.is_admin,
            ),
            dcc.Store(id=ids.PAGE_TITLE, data=drawn.title if drawn else None),
            dcc.Store(id=ids.DRAWN_PATH, data=first[0] if drawn and first else None),
            html.Main(id=ids.MAIN, className="main", tabIndex="-1", children=drawn.content if drawn else None),
            html.Footer(
                className="footer",
                children=[
                    html.P(
                        [
                            "Deaths of children in hospitals in England, in the National Child Mortality "
                            "Database's data model. ",
                            # its id: page-tools.js prints it at the foot of every printed page
                            html.Span(f"Data as at {long_date(facts.as_at)}. ", id=ids.AS_AT)
                            if facts is not None and facts.as_at
                            else "",
                            dcc.Link("What this report covers", href="/about"),
                        ]
                    ),
                ],
            ),
        ],
    )


class Page(NamedTuple):
    """What the router draws for an address."""

    content: Any
    title: str
    nav_classes: list[str]
    hides_filters: bool
    has_pack: bool  # it has tables for the panel pack (``PACK``)


def page(pathname: Any, search: Any) -> Page:
    """The view at ``pathname`` (or a refusal) with its title, the navigation's classes and whether
    the filter bar hides (it shows only on views that follow it). The one place that decides what
    an address shows: the first layout and the router's callback both ask it."""
    view = BY_PATH.get(pathname if isinstance(pathname, str) else "")
    classes = ["nav-link active" if view is not None and path == view.PATH else "nav-link" for _, path, _ in PAGES]
    if view is None:
        return Page(not_found(), f"Page not found · {APP_TITLE}", classes, True, False)
    if admin_only(view) and not admin_allowed(view.PATH):
        return Page(access_denied(), f"Access denied · {APP_TITLE}", classes, True, False)
    settings = {name: values[0] for name, values in parse_query(search).items() if name in ("grain", "split", "lines")}
    return Page(
        view.layout(**settings),
        f"{view.NAME} · {APP_TITLE}",
        classes,
        not uses_filters(view),
        bool(getattr(view, "PACK", ())),
    )


def requested_page() -> tuple[str, str] | None:
    """The path and query of the page whose layout Dash is fetching, if the request says.

    Dash's renderer fetches ``/_dash-layout`` from the page itself (or the page's preload does), and
    a same-origin request names its page in the Referer (the app's Referrer-Policy,
    strict-origin-when-cross-origin, keeps the path and query within the origin). Drawing that view
    in the first layout saves the router's round trip on every full page load. Without a Referer
    (a browser or an extension may drop it), or from another origin, the router draws it as before.
    The address is only ever looked up among the app's views, through the same checks as the
    router's: it can show nothing that typing it into the address bar would not."""
    referrer = request.referrer
    if not referrer:
        return None
    parts = urlsplit(referrer)
    if parts.netloc != request.host or parts.scheme not in ("http", "https"):
        return None
    return parts.path, f"?{parts.query}" if parts.query else ""


@callbacks(
    Output(ids.MAIN, "children"),
    Output(ids.PAGE_TITLE, "data"),
    *(Output(ids.nav_link(name), "className") for name, _, _ in PAGES),
    Output(ids.FILTER_BAR, "hidden"),
    Output(ids.PAGE_TOOLS, "hidden"),
    Output(ids.PACK_LINKS, "hidden"),
    Output(ids.DRAWN_PATH, "data"),
    Input(ids.URL, "pathname"),
    State(ids.URL, "search"),
    State(ids.DRAWN_PATH, "data"),
)
def route(pathname: Any, search: Any, drawn: Any) -> tuple[Any, ...]:
    """Draw a view when the path changes (not when the query changes: each view's own callbacks
    follow the query, so a filter change re-renders nothing). The view the first layout drew
    (``requested_page``) is left as it is when the location first reports its path; the mark is
    then cleared, so that coming back to that path later draws it afresh."""
    if drawn is not None and drawn == pathname:
        return (*(no_update,) * (5 + len(PAGES)), None)
    shown = page(pathname, search)
    return (
        shown.content,
        shown.title,
        *shown.nav_classes,
        shown.hides_filters,
        shown.hides_filters,
        not shown.has_pack,
        None if drawn else no_update,
    )


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

"""Saved views, in the page tools: save the current page and filters under a name, open, rename
and delete them; administrators offer a view to every user of a CDOP ("Shared by NCMD").

Every action is one callback that checks, on the server, whose view it is
(``operational.saved_views``) and records what it did in the audit log. Opening a view is a plain
link to ``/saved/<id>`` (``dashboard.saved_open``), which cleans the view's query against the
user's scope of that day.
"""

from __future__ import annotations

from typing import Any

from dash import Input, Output, State, ctx, dcc, html
from dash.exceptions import PreventUpdate
from flask import request

from dashboard.callbacks import Callbacks
from dashboard.context import ALL_MINE, ENGLAND, opened_view, services, signed_in_user
from dashboard.ui import ids
from dashboard.views import BY_PATH, admin_only, uses_filters
from operational import audit, saved_views
from operational.saved_views import BadSavedView, SavedView

callbacks = Callbacks()
OPEN_PATH = "/saved/"
SHARED_HEADING = "Shared by NCMD"


def panel(*, admin: bool) -> html.Details:
    return html.Details(
        className="saved-views",
        id=ids.SAVED_PANEL,
        children=[
            html.Summary("Saved views", id=ids.part(ids.SAVED_PANEL, "summary"), n_clicks=0),
            html.Div(
                className="saved-body",
                children=[
                    html.Div(id=ids.SAVED_LISTING, className="saved-listing"),
                    _field(
                        "Name", dcc.Input(id=ids.SAVED_NAME, type="text", maxLength=saved_views.NAME_LIMIT, value="")
                    ),
                    _button("Save this view", ids.SAVED_SAVE, "button"),
                    _field("One of your views", _chooser(ids.SAVED_LIST, "Choose")),
                    _button("Rename it to the name above", ids.SAVED_RENAME),
                    _button("Delete it", ids.SAVED_DELETE),
                    # present for everyone (a callback needs its states), shown and honoured for administrators only
                    _field(
                        "Offer it to every user of",
                        _chooser(ids.SAVED_SHARE_CDOP, "CDOP"),
                        _button("Offer it", ids.SAVED_SHARE),
                        box=ids.SAVED_SHARE_BOX,
                        hidden=not admin,
                    ),
                    html.P(id=ids.SAVED_STATUS, className="saved-status", role="status"),
                ],
            ),
        ],
    )


def _field(label: str, control: Any, *more: Any, box: str | None = None, hidden: bool = False) -> html.Div:
    props = {"id": box} if box else {}
    return html.Div(
        className="field", hidden=hidden, children=[html.Label(label, htmlFor=control.id), control, *more], **props
    )


def _chooser(name: str, placeholder: str) -> dcc.Dropdown:
    return dcc.Dropdown(id=name, options=[], placeholder=placeholder, className="filter-select")


def _button(text: str, name: str, kind: str = "button secondary") -> html.Button:
    return html.Button(text, id=name, n_clicks=0, type="button", className=kind)


def listing(views: list[SavedView], user_id: int) -> list[Any]:
    """The links that open each view: the user's own, then those shared with their CDOP."""
    own = [v for v in views if not v.shared_with(user_id)]
    shared = [v for v in views if v.shared_with(user_id)]

    def links(group: list[SavedView]) -> html.Ul:
        return html.Ul(
            [html.Li(html.A(_label(v), href=f"{OPEN_PATH}{v.id}", className="saved-link")) for v in group],
            className="saved-links",
        )

    out: list[Any] = [html.H3("Your views"), links(own) if own else html.P("None yet.", className="hint")]
    if shared:
        out += [html.H3(SHARED_HEADING), links(shared)]
    return out


def _label(view: SavedView) -> str:
    page = BY_PATH[view.path].NAME if view.path in BY_PATH else view.path
    offered = f", offered to {view.shared_cdop}" if view.shared_cdop else ""
    return f"{view.name} ({page}{offered})"


def savable(path: object) -> bool:
    """A page with the filter bar, open to every user (not an administrator's page)."""
    view = BY_PATH.get(path) if isinstance(path, str) else None
    return view is not None and uses_filters(view) and not admin_only(view)


@callbacks(
    Output(ids.SAVED_LISTING, "children"),
    Output(ids.SAVED_LIST, "options"),
    Output(ids.SAVED_LIST, "value"),
    Output(ids.SAVED_SHARE_CDOP, "options"),
    Output(ids.SAVED_STATUS, "children"),
    Input(ids.part(ids.SAVED_PANEL, "summary"), "n_clicks"),
    Input(ids.SAVED_SAVE, "n_clicks"),
    Input(ids.SAVED_RENAME, "n_clicks"),
    Input(ids.SAVED_DELETE, "n_clicks"),
    Input(ids.SAVED_SHARE, "n_clicks"),
    State(ids.URL, "pathname"),
    State(ids.URL, "search"),
    State(ids.SAVED_NAME, "value"),
    State(ids.SAVED_LIST, "value"),
    State(ids.SAVED_SHARE_CDOP, "value"),
    prevent_initial_call=True,  # listed when the panel is opened: no request on every page load
)
def act(*values: Any) -> tuple[Any, ...]:
    _opened, _save, _rename, _delete, _share, path, search, name, chosen, cdop = values
    action = {
        ids.SAVED_SAVE: "save",
        ids.SAVED_RENAME: "rename",
        ids.SAVED_DELETE: "delete",
        ids.SAVED_SHARE: "share",
    }.get(ctx.triggered_id)  # type: ignore[arg-type]
    if ctx.triggered_id is None:
        raise PreventUpdate
    user = signed_in_user()
    engine = services().engine
    with opened_view(search) as view:
        query = view.query()
        cdops = [o for o in view.footprints if o.value not in (ENGLAND, ALL_MINE)] if user.is_admin else []
    try:
        status = _do(action, user, engine, path, query, name, chosen, cdop, {o.value for o in cdops})
    except BadSavedView as error:
        status = f"Not saved: {error}."
    views = saved_views.visible_to(engine, user.id, user.cdop_codes)
    own = [{"label": _label(v), "value": v.id} for v in views if not v.shared_with(user.id)]
    kept = chosen if action not in ("delete",) and any(o["value"] == chosen for o in own) else None
    share_options = [{"label": o.label, "value": o.value} for o in cdops]
    return listing(views, user.id), own, kept, share_options, status


def _do(
    action: str | None,
    user: Any,
    engine: Any,
    path: Any,
    query: str,
    name: Any,
    chosen: Any,
    cdop: Any,
    cdops: set[str],
) -> str:
    """Carry out ``action``; returns what to tell the user. Every value here came from the browser."""
    remote = request.remote_addr
    if action == "save":
        if not savable(path):
            return "This page cannot be saved as a view."
        saved = saved_views.save(engine, user.id, name, path, query)
        audit.record(engine, "saved_view", user.username, remote, action="save", id=saved.id, path=path, query=query)
        return f"Saved “{saved.name}”."
    if action == "rename":
        renamed = saved_views.rename(engine, chosen, user.id, name)
        if renamed is None:
            return "Choose one of your own views to rename."
        audit.record(engine, "saved_view", user.username, remote, action="rename", id=renamed.id, name=renamed.name)
        return f"Renamed to “{renamed.name}”."
    if action == "delete":
        removed = saved_views.remove(engine, chosen, user.id)
        if removed is None:
            return "Choose one of your own views to delete."
        audit.record(engine, "saved_view", user.username, remote, action="delete", id=removed.id, name=removed.name)
        return f"Deleted “{removed.name}”."
    if action == "share":
        if not user.is_admin:
            audit.record(engine, "forbidden", user.username, remote, what="share a saved view")
            return "Only NCMD administrators can offer views to a CDOP."
        own = saved_views.find(engine, chosen, user.id, ())
        if own is None or not isinstance(cdop, str) or cdop not in cdops:
            return "Choose one of your views and a CDOP."
        copy = saved_views.save(engine, user.id, own.name, own.path, own.query, shared_cdop=cdop)
        audit.record(engine, "saved_view", user.username, remote, action="share", id=copy.id, cdop=cdop, name=own.name)
        return f"Offered “{own.name}” to every user of {cdop}."
    return ""

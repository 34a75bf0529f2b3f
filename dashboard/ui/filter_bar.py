"""The filter bar shared by every report page, and how it stays in step with the URL.

The URL's query string is the view's state. One filter change costs one
request to the server (it was two: the bar's own callback, then the page's):

- in the browser, ``controls_to_url`` (clientside) writes the controls'
  values into the URL, in the canonical order, with no server round trip;
- the page's own callback follows the URL, cleans it against the signed-in
  user's scope (``view_for``) and draws the page; on the way it calls
  ``sync_filter_bar``, which sets (``dash.set_props``) only the parts of the
  bar that differ from what the browser holds: the summary always,
  control values when the URL came from elsewhere (a link, a chart click,
  Back) or lost foreign values, option lists only when the scope or the data
  changed, and the URL itself when it was not canonical.

The browser's values are only compared, never trusted: what a page shows
comes from the URL, cleaned on the server.
"""

from __future__ import annotations

import functools
import hashlib
import json
from datetime import date, timedelta
from typing import Any

from dash import Input, Output, State, dcc, html, set_props

from dashboard.callbacks import Callbacks
from dashboard.context import View
from dashboard.ui import ids
from dashboard.ui.text import filter_summary, long_date, period_label
from dashboard.urlstate import FILTER_PARAMS, VIEW_PARAMS

callbacks = Callbacks()
DROPDOWNS = list(ids.FILTER_DROPDOWNS)
# the controls whose values the page callbacks compare with the URL's, in this order
BAR_CONTROLS = (ids.FOOTPRINT, *DROPDOWNS, ids.FILTER_FROM, ids.FILTER_TO)
# what every page callback that follows the URL takes after the search: see sync_filter_bar
BAR_STATE = (State(ids.FILTER_OPTIONS_KEY, "data"), *(State(c, "value") for c in BAR_CONTROLS))


def filter_bar(*, hidden: bool = False) -> html.Section:
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
        id=ids.FILTER_BAR,
        hidden=hidden,
        className="filters",
        **{"aria-label": "Filters"},
        children=[
            html.H2("Filters", className="visually-hidden"),
            dcc.Store(id=ids.FILTER_OPTIONS_KEY),
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


def options_key(view: View) -> str:
    """Names the option lists this view's bar needs: they change only with the
    scope, the user's footprints or the data."""
    text = repr((view.scope.key, view.facts.version, view.footprints))
    return hashlib.blake2b(text.encode(), digest_size=12).hexdigest()


def selected_values(view: View) -> dict[str, Any]:
    """What each control shows for this view, in the browser's form."""
    filters = view.filters
    return {
        # a single footprint is not written into URLs, so its (hidden) chooser stays empty
        ids.FOOTPRINT: view.footprint if len(view.footprints) > 1 else None,
        ids.FILTER_YEARS: [str(y) for y in filters.financial_years],
        ids.FILTER_TRUST: list(filters.trust_codes),
        ids.FILTER_SITE: list(filters.site_codes),
        ids.FILTER_PLACE: list(filters.places),
        ids.FILTER_AGE: list(filters.age_groups),
        ids.FILTER_REVIEWER: list(filters.reviewing_cdops),
        ids.FILTER_RESIDENCE: list(filters.residence_groups),
        ids.FILTER_STATUS: list(filters.review_statuses),
        ids.FILTER_AREA: list(filters.residence_areas),
        ids.FILTER_FROM: filters.date_from.isoformat() if filters.date_from else None,
        ids.FILTER_TO: filters.date_to.isoformat() if filters.date_to else None,
    }


def _same(held: Any, wanted: Any) -> bool:
    if isinstance(wanted, list):
        return isinstance(held, list) and [str(v) for v in held] == wanted
    return (held or None) == wanted


def sync_filter_bar(view: View, search: Any, bar: tuple[Any, ...]) -> None:
    """Bring the browser's filter bar in step with this (cleaned) view; ``bar``
    is what ``BAR_STATE`` sent: the option lists' key and the controls' values."""
    known_key, *held = (*bar, *([None] * (1 + len(BAR_CONTROLS) - len(bar))))
    canonical = view.query()
    if canonical != (search if isinstance(search, str) else ""):
        set_props(ids.URL, {"search": canonical})
    for control, wanted in selected_values(view).items():
        if not _same(held[BAR_CONTROLS.index(control)], wanted):
            set_props(control, {"value": wanted})
    key = options_key(view)
    if known_key != key:
        set_props(ids.FILTER_OPTIONS_KEY, {"data": key})
        for control, options in option_lists(view).items():
            set_props(control, {"options": options})
        set_props(ids.FOOTPRINT_BOX, {"style": {} if len(view.footprints) > 1 else {"display": "none"}})
    options, filters = view.options, view.filters
    summary = f"Showing deaths in hospitals of {view.scope.label}, {period_label(filters, options)}"
    active = filter_summary(filters, options)
    set_props(ids.FILTER_SUMMARY, {"children": summary + (f"; {'; '.join(active)}." if active else ".")})


def option_lists(view: View) -> dict[str, list[dict[str, Any]]]:
    """Every control's options, in the browser's form."""
    options = view.options
    trust_names = {o.value: o.label for o in options.trusts}
    lists = {
        ids.FILTER_YEARS: options.financial_years,
        ids.FILTER_TRUST: options.trusts,
        ids.FILTER_SITE: options.sites,
        ids.FILTER_PLACE: options.places,
        ids.FILTER_AGE: options.age_groups,
        ids.FILTER_REVIEWER: options.reviewing_cdops,
        ids.FILTER_RESIDENCE: options.residence_groups,
        ids.FILTER_STATUS: options.review_statuses,
        ids.FILTER_AREA: options.residence_areas,
    }
    out: dict[str, list[dict[str, Any]]] = {
        ids.FOOTPRINT: [{"label": o.label, "value": o.value} for o in view.footprints]
    }
    for control, choices in lists.items():
        out[control] = [
            {"label": f"{o.label} ({trust_names.get(o.parent, o.parent)})" if o.parent else o.label, "value": o.value}
            for o in choices
        ]
    filters = view.filters
    out[ids.FILTER_FROM] = month_options(options.first_date, options.last_date, filters.date_from, month_end=False)
    out[ids.FILTER_TO] = month_options(options.first_date, options.last_date, filters.date_to, month_end=True)
    return out


def month_options(first: date | None, last: date | None, chosen: date | None, *, month_end: bool) -> list[dict]:
    """The months in view, as the first (or last) day of each; a chosen day that
    is not a month boundary (from a bookmark) is offered too, so it shows."""
    return list(_month_options(first, last, chosen, month_end))


@functools.lru_cache(maxsize=256)  # the same few lists on every change of scope
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


# The URL parameters in the order the server writes them (urlstate.build_query).
URL_ORDER = [name for name in FILTER_PARAMS if name in ("fy", "from", "to")] + [
    name for name in FILTER_PARAMS if name not in ("fy", "from", "to")
]

# The URL's canonical form, in JavaScript: the parameters in the server's order
# (urlstate.build_query), values in the order given, encoded as Python's urlencode
# does, so that a URL written in the browser is already the server's and the page
# is drawn once. Shared by the filter bar's callback and the charts' bar clicks.
QUERY_JS = """
    const queryOrder = ORDER, keptParams = KEPT;
    const plus = s => encodeURIComponent(s)
        .replace(/[!'()*]/g, c => '%' + c.charCodeAt(0).toString(16).toUpperCase())
        .replace(/%20/g, '+');
    const canonicalQuery = (current, footprint, chosen) => {
        const pairs = [];
        if (footprint) { pairs.push(['footprint', String(footprint)]); }
        keptParams.forEach(name => { const v = current.get(name); if (v) { pairs.push([name, v]); } });
        queryOrder.forEach(param => (chosen[param] || []).forEach(v => pairs.push([param, v])));
        return pairs.length ? '?' + pairs.map(([k, v]) => plus(k) + '=' + plus(v)).join('&') : '';
    };
    """.replace("ORDER", json.dumps(URL_ORDER)).replace("KEPT", json.dumps(list(VIEW_PARAMS[1:])))

# A changed control (or Reset) writes the URL in the browser. Values are put in
# the order of their options (years ascending). The server still cleans whatever arrives.
callbacks.clientside(
    """
    function(footprint, ...args) {
        QUERY_JS
        const config = CONFIG;
        const n = config.dropdowns.length;
        const values = args.slice(0, n), start = args[n], end = args[n + 1];
        const search = args[n + 3] || '', optionLists = args.slice(n + 4, n + 4 + n);
        const noUpdate = window.dash_clientside.no_update;
        const fired = (window.dash_clientside.callback_context.triggered || []).map(t => t.prop_id);
        const by = id => fired.some(p => p.startsWith(id + '.'));
        if (!fired.some(p => config.controls.some(id => p.startsWith(id + '.')))) { return noUpdate; }
        const current = new URLSearchParams(search);
        const chosenFootprint = by(config.footprint) ? footprint : current.get('footprint');
        const chosen = {};
        if (!by(config.reset)) {
            chosen.from = start ? [String(start).slice(0, 10)] : [];
            chosen.to = end ? [String(end).slice(0, 10)] : [];
            config.dropdowns.forEach((param, i) => {
                const raw = Array.isArray(values[i]) ? values[i] : (values[i] == null ? [] : [values[i]]);
                const order = new Map((optionLists[i] || []).map((o, k) => [String(o.value), k]));
                const rank = v => param === 'fy' ? Number(v) : (order.has(v) ? order.get(v) : Infinity);
                chosen[param] = [...new Set(raw.map(String))].sort((a, b) => rank(a) - rank(b));
            });
        }
        const query = canonicalQuery(current, chosenFootprint, chosen);
        if (by(config.reset)) {
            // Reset empties the bar's controls here too, before the page's request is made, so
            // that it carries them empty: the server then has nothing to set in the bar, and no
            // second pass of this callback follows the charts (it did, when the server's answer
            // emptied them). Setting them runs this callback once more, to the same URL: one request still.
            const filled = config.dropdownIds.filter((id, i) => values[i] != null && values[i].length !== 0)
                .map(id => [id, []]);
            [[config.from, start], [config.to, end]].forEach(([id, v]) => { if (v) { filled.push([id, null]); } });
            filled.forEach(([id, empty]) => window.dash_clientside.set_props(id, {value: empty}));
        }
        return query === search ? noUpdate : query;
    }
    """.replace("QUERY_JS", QUERY_JS).replace(
        "CONFIG",
        json.dumps(
            {
                "dropdowns": [param for param, _ in ids.FILTER_DROPDOWNS.values()],
                "dropdownIds": DROPDOWNS,
                "from": ids.FILTER_FROM,
                "to": ids.FILTER_TO,
                "footprint": ids.FOOTPRINT,
                "reset": ids.FILTER_RESET,
                "controls": [*BAR_CONTROLS, ids.FILTER_RESET],
            }
        ),
    ),
    Output(ids.URL, "search", allow_duplicate=True),
    Input(ids.FOOTPRINT, "value"),
    *(Input(component, "value") for component in DROPDOWNS),
    Input(ids.FILTER_FROM, "value"),
    Input(ids.FILTER_TO, "value"),
    Input(ids.FILTER_RESET, "n_clicks"),
    State(ids.URL, "search"),
    *(State(component, "options") for component in DROPDOWNS),
    prevent_initial_call=True,
)

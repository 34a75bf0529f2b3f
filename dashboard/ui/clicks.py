"""Reading chart clicks safely (they come from the browser, so they are untrusted)."""

from __future__ import annotations

import json
from typing import Any

from dash import Input, Output, State

from dashboard.callbacks import Callbacks
from dashboard.ui import ids
from dashboard.ui.filter_bar import QUERY_JS
from queries.filters import Option

# A bar click sets the filter bar's control and writes the URL in the browser, in
# one step (no server round trip, and no second pass through the bar's own
# callback first), and the page's callback follows the URL: a click costs one
# request, as a chosen filter does. The code is checked against the control's
# options, which the server sent for this user's scope; the server cleans the
# URL again whatever arrives. A chart may offer several controls (the map: a
# hospital or an area): the first whose options hold the clicked code takes it.
BAR_CLICK_TO_CONTROLS = """
function(...args) {
    QUERY_JS
    const config = CONFIG;
    const n = config.graphs.length, m = config.controls.length;
    const clicks = args.slice(0, n), optionLists = args.slice(n, n + m), search = args[n + m] || '';
    const noUpdate = window.dash_clientside.no_update;
    const outputs = config.outputs.map(() => noUpdate);
    const unchanged = [...outputs, noUpdate];
    const fired = (window.dash_clientside.callback_context.triggered || []).map(t => t.prop_id.split('.')[0]);
    const i = config.graphs.findIndex(graph => fired.includes(graph));
    const point = i >= 0 && clicks[i] && Array.isArray(clicks[i].points) ? clicks[i].points[0] : null;
    let code = point ? point.customdata : null;
    if (Array.isArray(code)) { code = code[0]; }
    if (typeof code !== 'string') { return unchanged; }
    const options = control => optionLists[config.controls.indexOf(control)] || [];
    const offered = control => options(control).some(o => String(o.value) === code);
    const choice = config.choices[i].find(c => offered(c[0]));
    if (!choice) { return unchanged; }
    outputs[config.outputs.indexOf(choice[0])] = [code];
    choice[1].forEach(control => { outputs[config.outputs.indexOf(control)] = []; });
    // the same URL the bar's callback would write from the controls as they now stand
    const current = new URLSearchParams(search);
    const chosen = {};
    queryOrder.forEach(param => { chosen[param] = current.getAll(param); });
    chosen[config.params[choice[0]]] = [code];
    choice[1].forEach(control => { chosen[config.params[control]] = []; });
    const query = canonicalQuery(current, current.get('footprint'), chosen);
    return [...outputs, query === search ? noUpdate : query];
}
"""
Target = tuple[str, tuple[str, ...]]  # the filter control a click's code chooses, and the controls it empties


def clicked_code(click_data: Any, allowed: tuple[Option, ...]) -> str | None:
    """The code a chart click carries, if it is one of the allowed options."""
    if not isinstance(click_data, dict):
        return None
    points = click_data.get("points")
    if not isinstance(points, list) or not points or not isinstance(points[0], dict):
        return None
    code = points[0].get("customdata")
    if isinstance(code, list) and code:
        code = code[0]
    if not isinstance(code, str):
        return None
    return code if code in {o.value for o in allowed} else None


def download_href(name: str, query: str) -> str:
    return f"/download/{name}.csv{query}"


def bar_clicks_filter(callbacks: Callbacks, targets: dict[str, Target | list[Target]]) -> None:
    """Register, on ``callbacks``, a click on a mark of each chart in ``targets`` (chart id -> the filter
    control its marks' codes choose, and the controls that choice empties; or a list of those, tried
    in turn) as a filter change. One callback per chart, whose outputs are only the controls its own
    clicks can change: Dash marks every output of a callback as loading, and redraws each, on every
    call (a click on the age chart redrew the trust, hospital and place controls too)."""
    param = {control: name for control, (name, _label) in ids.FILTER_DROPDOWNS.items()}
    for graph, target in targets.items():
        choices = [target] if isinstance(target, tuple) else list(target)
        controls = list(dict.fromkeys(control for control, _ in choices))
        outputs = list(dict.fromkeys([*controls, *(c for _, clears in choices for c in clears)]))
        config = {
            "graphs": [graph],
            "controls": controls,
            "choices": [choices],
            "outputs": outputs,
            "params": {control: param[control] for control in outputs},  # each control's URL parameter
        }
        callbacks.clientside(
            BAR_CLICK_TO_CONTROLS.replace("QUERY_JS", QUERY_JS).replace("CONFIG", json.dumps(config)),
            *(Output(control, "value", allow_duplicate=True) for control in outputs),
            Output(ids.URL, "search", allow_duplicate=True),
            Input(graph, "clickData"),
            *(State(control, "options") for control in controls),
            State(ids.URL, "search"),
            prevent_initial_call=True,
        )

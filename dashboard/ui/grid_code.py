"""AG Grid's code only on the page that shows a grid (the case list), not in every page's HTML.

Dash writes a ``<script>`` into the index page for every script of every component
library imported, except those marked ``dynamic``: those it still serves from
``/_dash-component-suites/`` but leaves to be loaded some other way (dash/dash.py,
``_collect_and_register_resources``). dash_ag_grid marks only its async chunks so; ``defer``
marks its main bundle too (1.3 MB), as Dash itself edits ``dcc._js_dist`` for plotly.js.

Dash's renderer finds a component as ``window[namespace][type]`` and throws ("dash_ag_grid
was not found.") if a layout or callback output holding one arrives before the bundle has
run (dash-renderer's registry.js, called from persistence.js on every callback output). So
the case list's layout holds no grid, only the bundle's address (``address``); a clientside
callback (``LOAD``) adds a ``<script src>`` for it (CSP ``script-src 'self'``: no inline code)
and answers when it has run, and only then does the server's callback put the grid in.
The bundle finds its own async chunk beside itself, from ``document.currentScript``.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import dash
import dash_ag_grid
from dash.fingerprint import build_fingerprint

BUNDLE = "dash_ag_grid.min.js"


def _bundle() -> dict[str, Any]:
    found = [r for r in dash_ag_grid._js_dist if r.get("relative_package_path") == BUNDLE]
    if len(found) != 1:
        raise RuntimeError(f"dash_ag_grid no longer lists {BUNDLE} once among its scripts (see grid_code.py)")
    return found[0]


def defer() -> None:
    """Leave AG Grid's main bundle out of every page's HTML (it is still served). Idempotent."""
    _bundle()["dynamic"] = True


def address() -> str:
    """The bundle's fingerprinted address, as Dash would have written it into the page
    (so it is cached as long as Dash caches the rest: the fingerprint changes with the file)."""
    bundle = _bundle()
    namespace = bundle["namespace"]
    modified = int((Path(dash_ag_grid.__file__).parent / BUNDLE).stat().st_mtime)
    fingerprinted = build_fingerprint(BUNDLE, dash_ag_grid.__version__, modified)
    return dash.get_relative_path(f"/_dash-component-suites/{namespace}/{fingerprinted}")


# Loads the bundle once per tab (one promise shared by every visit to the page), answers
# true when it has run, false if it could not be fetched (and lets the next visit try again).
LOAD = """
function(src) {
    if (window.dash_ag_grid) { return true; }
    if (typeof src !== 'string' || !src.startsWith('/') || src.startsWith('//')) { return false; }
    const shared = window.dash_clientside;
    if (!shared.gridCode) {
        shared.gridCode = new Promise(function(resolve) {
            const script = document.createElement('script');
            script.src = src;
            const done = function() {
                const ran = Boolean(window.dash_ag_grid);
                if (!ran) { script.remove(); shared.gridCode = null; }
                resolve(ran);
            };
            script.onload = done;
            script.onerror = done;
            document.head.appendChild(script);
        });
    }
    return shared.gridCode;
}
"""

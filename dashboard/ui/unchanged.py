"""Leave alone what the browser already shows.

Dash's renderer handles every output a callback answers, changed or not: each one is an update of
its store, and each ``children`` output one more recomputation of the page's component paths, and
each of those visits every connected component of the page (about 0.5 ms on the overview, where a
filter change answered 27 of them). A page's text (headings, tile labels, periods, addresses)
mostly stays as it was when a filter changes, so a callback reads what the browser holds (a State
of each text output) and answers only what differs.

Better still, the text need not be an output at all (``set_changed``): Dash marks every output of
a callback as loading while its request is out, redrawing each component as it marks it and again
as it clears it, 27 of them for the overview's text on every filter change. A value set with
``dash.set_props`` is applied with the answer but never marked, so only the charts, which are
drawn again anyway, stay outputs.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from dash import Output, State, no_update, set_props


def held(outputs: Sequence[Output]) -> list[State]:
    """A State of each of ``outputs``: what the browser shows there now."""
    return [State(output.component_id, output.component_property) for output in outputs]


def only_changed(values: Sequence[Any], shown: Sequence[Any]) -> list[Any]:
    """``values`` for ``outputs`` of ``held``, each one the browser already shows left out (``no_update``)."""
    if len(values) != len(shown):
        raise ValueError(f"{len(values)} values for {len(shown)} outputs")
    return [no_update if value == before else value for value, before in zip(values, shown, strict=True)]


def set_changed(outputs: Sequence[Output], values: Sequence[Any], shown: Sequence[Any]) -> None:
    """Set (``dash.set_props``) each of ``outputs`` to its value in ``values``, leaving out what the
    browser already shows (``shown``: the States of ``held(outputs)``)."""
    if len(outputs) != len(values):
        raise ValueError(f"{len(values)} values for {len(outputs)} outputs")
    for output, value in zip(outputs, only_changed(values, shown), strict=True):
        if value is not no_update:
            set_props(output.component_id, {output.component_property: value})

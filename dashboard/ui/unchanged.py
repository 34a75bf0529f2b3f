"""Leave alone what the browser already shows.

Dash's renderer handles every output a callback answers, changed or not: each one is an update of
its store, and each ``children`` output one more recomputation of the page's component paths, and
each of those visits every connected component of the page (about 0.5 ms on the overview, where a
filter change answered 27 of them). A page's text (headings, tile labels, periods, addresses)
mostly stays as it was when a filter changes, so a callback reads what the browser holds (a State
of each text output) and answers only what differs.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from dash import Output, State, no_update


def held(outputs: Sequence[Output]) -> list[State]:
    """A State of each of ``outputs``: what the browser shows there now."""
    return [State(output.component_id, output.component_property) for output in outputs]


def only_changed(values: Sequence[Any], shown: Sequence[Any]) -> list[Any]:
    """``values`` for ``outputs`` of ``held``, each one the browser already shows left out (``no_update``)."""
    if len(values) != len(shown):
        raise ValueError(f"{len(values)} values for {len(shown)} outputs")
    return [no_update if value == before else value for value, before in zip(values, shown, strict=True)]

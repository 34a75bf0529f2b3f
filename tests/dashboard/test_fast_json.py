"""Callback responses encoded by orjson are the JSON plotly's encoder writes, escaping and all."""

from __future__ import annotations

import json
from datetime import date
from decimal import Decimal

import dash._callback
import numpy as np
from dash import html
from plotly.io.json import to_json_plotly

from dashboard import fast_json
from dashboard.ui.components import table


def test_components_figures_dates_and_numbers_encode_as_plotly_encodes_them() -> None:
    import polars as pl

    value = {
        "tiles": html.Div([html.P("<script>alert(1)</script>"), html.P("line\u2028break", className="x")]),
        "table": table(
            pl.DataFrame({"name": ["A & B", "C/D"], "deaths": [3, 1_234]}),
            [("name", "Name"), ("deaths", "Deaths")],
            "caption",
        ),
        "figure": {"data": [{"type": "bar", "x": np.array([1, 2]), "y": [np.int64(3), 4.5]}]},
        "day": date(2024, 4, 1),
        "nothing": None,
    }
    ours = fast_json.to_json(value)
    assert json.loads(ours) == json.loads(to_json_plotly(value))
    assert "<" not in ours and ">" not in ours and "/" not in ours and "\u2028" not in ours


def test_what_orjson_cannot_encode_goes_to_plotly() -> None:
    value = {"share": Decimal("0.25")}  # orjson refuses Decimal; plotly writes a number
    assert json.loads(fast_json.to_json(value)) == {"share": 0.25}


def test_the_app_installs_it_for_callbacks(dash_app) -> None:
    assert dash._callback.to_json is fast_json.to_json

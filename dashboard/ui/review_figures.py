"""The Reviews page's charts: how fast reviews were done, and shares beside England's."""

from __future__ import annotations

from typing import Any

import polars as pl

from dashboard.ui.figures import (
    EDGE_PX,
    NHS_AQUA_GREEN,
    NHS_DARK_BLUE,
    NHS_DARK_GREY,
    NHS_WARM_YELLOW,
    OVERHANG_PX,
    TITLED_AXIS_PX,
    Figure,
    _bar_height,
    _margin,
    empty,
    label_px,
    layout_figure,
)

# darker for quicker, and each band named in the legend and the hover: colour is never the only cue
BAND_COLOURS = {"within_6m": NHS_DARK_BLUE, "6_to_12m": NHS_AQUA_GREEN, "over_12m": NHS_WARM_YELLOW}


def banded(frame: pl.DataFrame, what: str = "reviews") -> Figure:
    """One bar per group of a banded table (``report.completed_bands``), in the
    table's order from the top, split into its bands as shares of the group's
    ``what``; the count, share and interval in the hover."""
    if frame.height == 0 or frame["reviews"].sum() == 0:
        return empty(f"No {what} match these filters.")
    labels = frame.unique("group", maintain_order=True)["label"].to_list()
    data = []
    for band in BAND_COLOURS:
        part = frame.filter(pl.col("band") == band)
        shares = [100 * n / total if total else 0 for n, total in zip(part["reviews"], part["total"], strict=True)]
        data.append(
            {
                "type": "bar",
                "orientation": "h",
                "name": part["band_label"][0],
                "x": shares,
                "y": part["label"].to_list(),
                "customdata": list(zip(part["reviews"].to_list(), part["total"].to_list(), strict=True)),
                "marker": {"color": BAND_COLOURS[band]},
                "text": [f"{share:.0f}%" if share >= 8 else "" for share in shares],
                "textposition": "inside",
                "insidetextanchor": "middle",
                "hovertemplate": (
                    f"%{{y}}<br>{part['band_label'][0]}: %{{customdata[0]:,}} of %{{customdata[1]:,}} {what}"
                    " (%{x:.0f}%)<extra></extra>"
                ),
            }
        )
    return layout_figure(
        data,
        height=_bar_height(len(labels)) + 40,
        margin=_margin(left=label_px(labels, limit=440), bottom=TITLED_AXIS_PX, right=OVERHANG_PX),
        legend=True,
        barmode="stack",
        xaxis={"title": {"text": f"Share of {what} (%)"}, "range": [0, 100]},
        yaxis={"type": "category", "categoryorder": "array", "categoryarray": labels[::-1]},
    )


def compared(frame: pl.DataFrame) -> Figure:
    """Each share of a comparison table (``COMPARISON_SCHEMA``) as a bar with its 95%
    interval, and England's share as a diamond beside it."""
    shown = frame.filter(pl.col("total") > 0)
    if shown.height == 0:
        return empty()
    labels = shown["label"].to_list()
    percent = [None if share is None else 100 * share for share in shown["share"].to_list()]
    below = [None if s is None or low is None else s - 100 * low for s, low in zip(percent, shown["low"], strict=True)]
    above = [
        None if s is None or high is None else 100 * high - s for s, high in zip(percent, shown["high"], strict=True)
    ]
    local: dict[str, Any] = {
        "type": "bar",
        "orientation": "h",
        "name": "This view (95% interval)",
        "x": percent,
        "y": labels,
        "marker": {"color": NHS_DARK_BLUE},
        "error_x": {"type": "data", "symmetric": False, "array": above, "arrayminus": below, "color": NHS_DARK_GREY},
        "customdata": list(zip(shown["count"].to_list(), shown["total"].to_list(), strict=True)),
        "hovertemplate": "%{y}<br>%{customdata[0]:,} of %{customdata[1]:,} (%{x:.1f}%)<extra></extra>",
    }
    national = {
        "type": "scatter",
        "mode": "markers",
        "name": "England",
        "x": [None if share is None else 100 * share for share in shown["england_share"].to_list()],
        "y": labels,
        "marker": {
            "symbol": "diamond",
            "size": 11,
            "color": NHS_WARM_YELLOW,
            "line": {"color": "#212B32", "width": 1.5},
        },
        "hovertemplate": "%{y}<br>England: %{x:.1f}%<extra></extra>",
    }
    return layout_figure(
        [local, national],
        height=_bar_height(len(labels)) + 40,
        margin=_margin(left=label_px(labels, limit=440), bottom=TITLED_AXIS_PX, right=EDGE_PX + OVERHANG_PX),
        legend=True,
        xaxis={"title": {"text": "Share (%)"}, "rangemode": "tozero"},
        yaxis={"type": "category", "categoryorder": "array", "categoryarray": labels[::-1]},
    )

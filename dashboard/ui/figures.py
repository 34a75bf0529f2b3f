"""Figure builders: a polars frame in, a plotly figure out. No SQL, no Dash.

Figures are written directly in plotly's figure schema (the dict that
``go.Figure(...).to_plotly_json()`` would produce): building validated
``graph_objects`` costs milliseconds per figure and is most of a callback's
time, while the dict costs microseconds. The tests validate every builder's
output against plotly's schema with ``go.Figure(figure)``, so nothing is lost.
Every clickable mark carries its code in ``customdata`` so that a click can
filter the other views.
"""

from __future__ import annotations

from typing import Any

import polars as pl

from queries import codes

Figure = dict[str, Any]

NHS_BLUE = "#005EB8"
NHS_DARK_BLUE = "#003087"
NHS_LIGHT_BLUE = "#41B6E6"
NHS_AQUA_GREEN = "#00A499"
NHS_DARK_GREY = "#425563"
NHS_MID_GREY = "#768692"
NHS_PALE_GREY = "#E8EDEE"
NHS_WARM_YELLOW = "#FFB81C"
NHS_PURPLE = "#330072"
NHS_PINK = "#AE2573"
NHS_RED = "#DA291C"
NHS_ORANGE = "#ED8B00"
NHS_DARK_GREEN = "#006747"

PLACE_COLOURS: dict[str, str] = {
    "nicu": NHS_DARK_BLUE,
    "lnu": NHS_BLUE,
    "scu": NHS_LIGHT_BLUE,
    "delivery_suite": NHS_AQUA_GREEN,
    "picu": NHS_PURPLE,
    "ed": NHS_RED,
    "paediatric_ward": NHS_WARM_YELLOW,
    "adult_icu": NHS_PINK,
    "theatre": NHS_DARK_GREEN,
    "other_ward": NHS_ORANGE,
    "not_known": NHS_MID_GREY,
}
AGE_COLOURS: dict[str, str] = dict(
    zip(
        codes.AGE_GROUPS,
        [NHS_DARK_BLUE, NHS_BLUE, NHS_LIGHT_BLUE, NHS_AQUA_GREEN, NHS_WARM_YELLOW, NHS_ORANGE],
        strict=True,
    )
)
REVIEW_COLOURS = {"local": NHS_BLUE, "other": NHS_WARM_YELLOW, "unassigned": NHS_RED}
RESIDENCE_COLOURS = {
    "footprint": NHS_BLUE,
    "england": NHS_WARM_YELLOW,
    "uk_other": NHS_AQUA_GREEN,
    "outside_uk": NHS_PINK,
    "not_known": NHS_MID_GREY,
}
SPLIT_COLOURS = {
    "place": PLACE_COLOURS,
    "age_group": AGE_COLOURS,
    "review_group": REVIEW_COLOURS,
    "residence_group": RESIDENCE_COLOURS,
}
BAR_LIMIT = 30  # more bars than this make labels unreadable; the tables and CSVs have them all
LINE_DASHES = ["solid", "dash", "dot", "dashdot", "longdash", "longdashdot"]  # tell lines apart without colour
FONT = "Arial, Helvetica, sans-serif"
# A count axis's labels are checked one by one against the chart's edge unless overflow is
# allowed (plotly measures each in the page: a forced layout per redraw); the margins below and
# automargin already keep them inside.
AXIS = {"gridcolor": NHS_PALE_GREY, "zerolinecolor": NHS_PALE_GREY, "automargin": True, "ticklabeloverflow": "allow"}

# Margins are set to what the labels are expected to need. Plotly's automargin stays on as the
# safety net (a label wider than expected still fits), but it redraws a chart a second time
# whenever the room its labels need differs from the margin in force, so a margin that
# already holds them saves that second pass on most redraws (a count's tick labels grow and
# shrink with every filter).
CHAR_PX = 7.0  # an estimate of one character's width in 13 px Arial
COUNT_AXIS_PX = 66  # tick labels up to "10,000" and the axis title beside them
TITLED_AXIS_PX = 52  # one row of tick labels and the axis title below them
EDGE_PX = 16
OVERHANG_PX = 24  # room for half the last tick label, past the end of an axis


def label_px(labels: list[Any], limit: int = 360) -> int:
    """Room for the widest of ``labels`` as tick labels beside an axis, in pixels."""
    widest = max((len(str(label)) for label in labels), default=0)
    return min(limit, round(widest * CHAR_PX) + 14)


def _margin(*, left: int = EDGE_PX, bottom: int = 8, top: int = 8, right: int = EDGE_PX) -> dict[str, int]:
    return {"l": left, "r": right, "t": top, "b": bottom}


def layout_figure(
    data: list[dict[str, Any]],
    *,
    height: int,
    legend: bool = False,
    xaxis: dict[str, Any] | None = None,
    yaxis: dict[str, Any] | None = None,
    margin: dict[str, int] | None = None,
    **extra: Any,
) -> Figure:
    """The app's figure: its traces in the house layout (``extra`` adds or replaces layout keys)."""
    layout: dict[str, Any] = {
        "height": height,
        "margin": margin or {"l": 8, "r": EDGE_PX, "t": 8, "b": 8},
        "font": {"family": FONT, "size": 13, "color": "#212B32"},
        "paper_bgcolor": "white",
        "plot_bgcolor": "white",
        "showlegend": legend,
        "legend": {"orientation": "h", "yanchor": "bottom", "y": 1.02, "x": 0, "traceorder": "normal"},
        "hoverlabel": {"font": {"family": FONT}},
        "separators": ".,",
        "xaxis": {**AXIS, **(xaxis or {})},
        "yaxis": {**AXIS, **(yaxis or {})},
        **extra,
    }
    return {"data": data, "layout": layout}


def empty(message: str = "No deaths match these filters.") -> Figure:
    annotation = {
        "text": message,
        "showarrow": False,
        "font": {"size": 15, "color": NHS_DARK_GREY},
        "xref": "paper",
        "yref": "paper",
        "x": 0.5,
        "y": 0.5,
    }
    return layout_figure([], height=220, xaxis={"visible": False}, yaxis={"visible": False}, annotations=[annotation])


def _bar_height(rows: int) -> int:
    return max(220, min(1400, 30 * rows + 70))


def _no_deaths(frame: pl.DataFrame, value: str) -> bool:
    return frame.height == 0 or frame[value].sum() == 0


def horizontal_bars(
    frame: pl.DataFrame, label: str, code: str, value: str = "deaths", colour: str = NHS_BLUE, limit: int = BAR_LIMIT
) -> Figure:
    """One bar per row, largest at the top (the ``limit`` largest), labelled with its count."""
    if _no_deaths(frame, value):
        return empty()
    # largest first, then by name; the top ``limit``, drawn bottom-up (plain Python: a polars sort of a
    # few dozen rows costs more than the work)
    rows = sorted(
        zip(frame[value].to_list(), frame[label].to_list(), frame[code].to_list(), strict=True),
        key=lambda row: (-row[0], row[1] or ""),
    )[:limit][::-1]
    values, labels, keys = ([row[i] for row in rows] for i in range(3))
    bar = {
        "type": "bar",
        "orientation": "h",
        "x": values,
        "y": labels,
        "customdata": keys,
        "marker": {"color": colour},
        "text": values,
        "textposition": "auto",
        "hovertemplate": "%{y}: %{x:,} deaths<extra></extra>",
    }
    return layout_figure(
        [bar],
        height=_bar_height(len(rows)),
        margin=_margin(left=label_px(labels), bottom=TITLED_AXIS_PX, right=OVERHANG_PX),
        clickmode="event",
        xaxis={"title": {"text": "Deaths"}, "rangemode": "tozero"},
        yaxis={"type": "category"},
    )


def column_bars(
    frame: pl.DataFrame, label: str, code: str, value: str = "deaths", colours: dict[str, str] | None = None
) -> Figure:
    """Bars in the frame's own order (code-list order), e.g. age groups."""
    if _no_deaths(frame, value):
        return empty()
    bar = {
        "type": "bar",
        "x": frame[label].to_list(),
        "y": frame[value].to_list(),
        "customdata": frame[code].to_list(),
        "marker": {"color": [(colours or {}).get(c, NHS_BLUE) for c in frame[code]]},
        "text": frame[value].to_list(),
        "textposition": "auto",
        "hovertemplate": "%{x}: %{y:,} deaths<extra></extra>",
    }
    return layout_figure(
        [bar],
        height=300,
        margin=_margin(left=COUNT_AXIS_PX, bottom=40, top=OVERHANG_PX),
        clickmode="event",
        xaxis={"type": "category"},
        yaxis={"title": {"text": "Deaths"}, "rangemode": "tozero"},
    )


def stacked_horizontal(
    frame: pl.DataFrame,
    label: str,
    code: str,
    stack: str,
    stack_label: str,
    colours: dict[str, str],
    value: str = "deaths",
    limit: int = BAR_LIMIT,
    legend: bool = True,
) -> Figure:
    """Bars per ``label`` (the ``limit`` largest totals, largest at the top) stacked by ``stack``.
    Without ``legend`` the card names the colours itself (``components.colour_key``): plotly.js
    lays a legend of many entries out again on every redraw (4-8 ms of a filter change), and the
    stacks need no trace each (a legend's entries are traces), so they are drawn as one."""
    if _no_deaths(frame, value):
        return empty()
    # plain Python over the (small) frame: a pivot costs more than the data
    columns = {c: frame[c].to_list() for c in (label, code, stack, stack_label, value)}
    totals: dict[tuple[str, str], int] = {}
    cells: dict[tuple[str, str], int] = {}
    stacks: dict[str, str] = {}
    for row_label, row_code, stack_code, stack_name, count in zip(*columns.values(), strict=True):
        totals[(row_label, row_code)] = totals.get((row_label, row_code), 0) + count
        cells[(row_code, stack_code)] = cells.get((row_code, stack_code), 0) + count
        stacks.setdefault(stack_code, stack_name)
    shown = sorted(totals, key=lambda key: (-totals[key], key[0]))[:limit][::-1]
    rows, row_codes = [key[0] for key in shown], [key[1] for key in shown]
    data = (
        _stacked_trace(rows, row_codes, cells, stacks, colours)
        if not legend
        else [
            {
                "type": "bar",
                "orientation": "h",
                "name": stack_name,
                "x": [cells.get((row_code, stack_code), 0) for row_code in row_codes],
                "y": rows,
                "customdata": row_codes,
                "marker": {"color": colours.get(stack_code, NHS_MID_GREY)},
                "hovertemplate": f"%{{y}}<br>{stack_name}: %{{x:,}} deaths<extra></extra>",
            }
            for stack_code, stack_name in stacks.items()
        ]
    )
    return layout_figure(
        data,
        height=_bar_height(len(rows)) + (40 if legend else 0),
        # the legend above makes its own room before the axes are drawn: it costs no second pass
        margin=_margin(left=label_px(rows, limit=440), bottom=TITLED_AXIS_PX, right=OVERHANG_PX),
        legend=legend,
        barmode="stack" if legend else "overlay",
        clickmode="event",
        xaxis={"title": {"text": "Deaths"}, "rangemode": "tozero"},
        yaxis={"type": "category", "categoryorder": "array", "categoryarray": rows},
    )


def _stacked_trace(
    rows: list[str],
    row_codes: list[str],
    cells: dict[tuple[str, str], int],
    stacks: dict[str, str],
    colours: dict[str, str],
) -> list[dict[str, Any]]:
    """The stacks as one trace of bars, each starting where the one before it on its row ends
    (``base``): plotly.js spends most of a redraw per trace, and a trace per stack (a place in
    hospital: 11) cost twice what one trace of the same bars does. Each bar carries its row's
    code first (what a click filters by) and its stack's name (for the hover)."""
    x: list[int] = []
    base: list[int] = []
    y: list[str] = []
    customdata: list[list[str]] = []
    colour: list[str] = []
    ends = dict.fromkeys(row_codes, 0)
    for stack_code, stack_name in stacks.items():
        for row, row_code in zip(rows, row_codes, strict=True):
            count = cells.get((row_code, stack_code), 0)
            if count:
                x.append(count)
                base.append(ends[row_code])
                y.append(row)
                customdata.append([row_code, stack_name])
                colour.append(colours.get(stack_code, NHS_MID_GREY))
                ends[row_code] += count
    return [
        {
            "type": "bar",
            "orientation": "h",
            "x": x,
            "base": base,
            "y": y,
            "customdata": customdata,
            "marker": {"color": colour},
            "hovertemplate": "%{y}<br>%{customdata[1]}: %{x:,} deaths<extra></extra>",
        }
    ]


def trend(
    frame: pl.DataFrame,
    split: str | None = None,
    split_label: str | None = None,
    value: str = "deaths",
    bars: bool = False,
) -> Figure:
    """Deaths per period (the frame's ``period`` column, in order), one line per split value."""
    if frame.height == 0:
        return empty("No deaths in this period.")
    data = []
    if split is None or split_label is None:
        trace: dict[str, Any] = {
            "x": frame["period"].to_list(),
            "y": frame[value].to_list(),
            "name": "Deaths",
            "hovertemplate": "%{x}: %{y:,} deaths<extra></extra>",
        }
        if bars:
            trace.update(type="bar", marker={"color": NHS_BLUE})
        else:
            trace.update(type="scatter", mode="lines+markers", line={"color": NHS_BLUE, "width": 3})
        data.append(trace)
    else:
        colours = SPLIT_COLOURS.get(split, {})
        groups = frame.select(split, split_label).unique(maintain_order=True).iter_rows()
        for index, (group_code, group_name) in enumerate(groups):
            part = frame.filter(pl.col(split) == group_code)
            data.append(
                {
                    "type": "scatter",
                    "mode": "lines+markers",
                    "name": group_name,
                    "x": part["period"].to_list(),
                    "y": part[value].to_list(),
                    "line": {
                        "color": colours.get(group_code, NHS_MID_GREY),
                        "width": 2,
                        "dash": LINE_DASHES[index % len(LINE_DASHES)],
                    },
                    "hovertemplate": f"%{{x}}<br>{group_name}: %{{y:,}} deaths<extra></extra>",
                }
            )
    periods = frame["period"].unique(maintain_order=True).to_list()
    # many periods: plotly turns their labels 30 degrees, so they need about half their width below
    turned = len(periods) > 12
    below = label_px(periods) // 2 + 30 if turned else 40
    return layout_figure(
        data,
        height=340,
        margin=_margin(
            left=COUNT_AXIS_PX,
            bottom=below,
            top=8 if split is not None else OVERHANG_PX,  # a legend above makes its own room
            right=50 if turned else OVERHANG_PX,
        ),
        legend=split is not None,
        xaxis={"type": "category"},
        yaxis={"title": {"text": "Deaths"}, "rangemode": "tozero"},
    )


def heatmap(
    frame: pl.DataFrame,
    row: str,
    column: str,
    value: str = "deaths",
    rows_limit: int = BAR_LIMIT,
    columns_limit: int = 25,
) -> Figure:
    """Rows x columns of counts (the busiest of each), with the count written in each cell."""
    if frame.height == 0:
        return empty()
    lookup: dict[tuple[str, str], int] = {}
    row_totals: dict[str, int] = {}
    column_totals: dict[str, int] = {}
    for r, c, v in zip(*(frame[name].to_list() for name in (row, column, value)), strict=True):
        lookup[(r, c)] = lookup.get((r, c), 0) + v
        row_totals[r] = row_totals.get(r, 0) + v
        column_totals[c] = column_totals.get(c, 0) + v
    rows = sorted(row_totals, key=lambda r: (-row_totals[r], r))[:rows_limit][::-1]
    columns = sorted(column_totals, key=lambda c: (-column_totals[c], c))[:columns_limit]
    z = [[lookup.get((r, c), 0) for c in columns] for r in rows]
    cell = {
        "type": "heatmap",
        "z": z,
        "x": columns,
        "y": rows,
        "text": [[str(v) if v else "" for v in line] for line in z],
        "texttemplate": "%{text}",
        "colorscale": [[0, "#FFFFFF"], [1, NHS_DARK_BLUE]],
        "showscale": False,
        "hovertemplate": "%{y}<br>reviewed by %{x}: %{z:,} deaths<extra></extra>",
        "xgap": 1,
        "ygap": 1,
    }
    return layout_figure(
        [cell],
        height=_bar_height(len(rows)) + 120,
        xaxis={"tickangle": -40, "side": "top", "type": "category"},
        yaxis={"type": "category"},
    )

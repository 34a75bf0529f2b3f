"""Figure builders: a polars frame in, a plotly figure out. No SQL, no Dash.

Plain ``graph_objects`` (a ``go.Bar`` costs well under a millisecond; plotly
express costs tens). Every clickable mark carries its code in ``customdata``
so that a click can filter the other views.
"""

from __future__ import annotations

import plotly.graph_objects as go
import polars as pl

from queries import codes

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
NHS_DARK_PINK = "#7C2855"

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
BAR_LIMIT = 30  # bars beyond this many make labels unreadable; the tables and CSVs have them all
# Dashes tell lines apart without colour.
LINE_DASHES = ["solid", "dash", "dot", "dashdot", "longdash", "longdashdot"]
FONT = "Arial, Helvetica, sans-serif"


def _layout(figure: go.Figure, *, height: int, legend: bool = False, **extra: object) -> go.Figure:
    figure.update_layout(
        height=height,
        margin={"l": 8, "r": 16, "t": 8, "b": 8},
        font={"family": FONT, "size": 13, "color": "#212B32"},
        paper_bgcolor="white",
        plot_bgcolor="white",
        showlegend=legend,
        legend={"orientation": "h", "yanchor": "bottom", "y": 1.02, "x": 0, "title": None, "traceorder": "normal"},
        hoverlabel={"font": {"family": FONT}},
        separators=".,",
        **extra,
    )
    figure.update_xaxes(gridcolor=NHS_PALE_GREY, zerolinecolor=NHS_PALE_GREY, automargin=True)
    figure.update_yaxes(gridcolor=NHS_PALE_GREY, zerolinecolor=NHS_PALE_GREY, automargin=True)
    return figure


def empty(message: str = "No deaths match these filters.") -> go.Figure:
    figure = go.Figure()
    figure.add_annotation(
        text=message,
        showarrow=False,
        font={"size": 15, "color": NHS_DARK_GREY},
        xref="paper",
        yref="paper",
        x=0.5,
        y=0.5,
    )
    figure.update_xaxes(visible=False)
    figure.update_yaxes(visible=False)
    return _layout(figure, height=220)


def _bar_height(rows: int) -> int:
    return max(220, min(1400, 30 * rows + 70))


def horizontal_bars(
    frame: pl.DataFrame, label: str, code: str, value: str = "deaths", colour: str = NHS_BLUE
) -> go.Figure:
    """One bar per row, largest first, labelled with its count."""
    if frame.height == 0 or frame[value].sum() == 0:
        return empty()
    ordered = frame.sort(value, descending=False)
    figure = go.Figure(
        go.Bar(
            x=ordered[value].to_list(),
            y=ordered[label].to_list(),
            customdata=ordered[code].to_list(),
            orientation="h",
            marker_color=colour,
            text=ordered[value].to_list(),
            textposition="auto",
            hovertemplate="%{y}: %{x:,} deaths<extra></extra>",
        )
    )
    figure.update_xaxes(title_text="Deaths", rangemode="tozero")
    return _layout(figure, height=_bar_height(ordered.height), clickmode="event")


def column_bars(
    frame: pl.DataFrame, label: str, code: str, value: str = "deaths", colours: dict[str, str] | None = None
) -> go.Figure:
    """Bars in the frame's own order (code-list order), e.g. age groups."""
    if frame.height == 0 or frame[value].sum() == 0:
        return empty()
    colour = [(colours or {}).get(c, NHS_BLUE) for c in frame[code]]
    figure = go.Figure(
        go.Bar(
            x=frame[label].to_list(),
            y=frame[value].to_list(),
            customdata=frame[code].to_list(),
            marker_color=colour,
            text=frame[value].to_list(),
            textposition="auto",
            hovertemplate="%{x}: %{y:,} deaths<extra></extra>",
        )
    )
    figure.update_yaxes(title_text="Deaths", rangemode="tozero")
    return _layout(figure, height=300, clickmode="event")


def stacked_horizontal(
    frame: pl.DataFrame,
    label: str,
    code: str,
    stack: str,
    stack_label: str,
    colours: dict[str, str],
    value: str = "deaths",
) -> go.Figure:
    """Bars per ``label`` (largest total first) stacked by ``stack`` in code order."""
    if frame.height == 0 or frame[value].sum() == 0:
        return empty()
    totals = frame.group_by(label, code).agg(pl.col(value).sum().alias("_total")).sort("_total")
    order = totals[label].to_list()
    figure = go.Figure()
    for stack_code, stack_name in frame.select(stack, stack_label).unique(maintain_order=True).iter_rows():
        part = totals.join(frame.filter(pl.col(stack) == stack_code), on=[label, code], how="left").with_columns(
            pl.col(value).fill_null(0)
        )
        figure.add_trace(
            go.Bar(
                name=stack_name,
                x=part[value].to_list(),
                y=part[label].to_list(),
                orientation="h",
                customdata=part[code].to_list(),
                marker_color=colours.get(stack_code, NHS_MID_GREY),
                hovertemplate=f"%{{y}}<br>{stack_name}: %{{x:,}} deaths<extra></extra>",
            )
        )
    figure.update_yaxes(categoryorder="array", categoryarray=order)
    figure.update_xaxes(title_text="Deaths", rangemode="tozero")
    return _layout(figure, height=_bar_height(len(order)) + 40, legend=True, barmode="stack", clickmode="event")


def trend(
    frame: pl.DataFrame,
    split: str | None = None,
    split_label: str | None = None,
    value: str = "deaths",
    bars: bool = False,
) -> go.Figure:
    """Deaths per period (the frame's ``period`` column, in order), one line per split value."""
    if frame.height == 0:
        return empty("No deaths in this period.")
    figure = go.Figure()
    if split is None or split_label is None:
        trace = go.Bar if bars else go.Scatter
        style = {} if bars else {"mode": "lines+markers", "line": {"color": NHS_BLUE, "width": 3}}
        figure.add_trace(
            trace(
                x=frame["period"].to_list(),
                y=frame[value].to_list(),
                name="Deaths",
                hovertemplate="%{x}: %{y:,} deaths<extra></extra>",
                **({"marker_color": NHS_BLUE} if bars else style),
            )
        )
    else:
        colours = SPLIT_COLOURS.get(split, {})
        groups = frame.select(split, split_label).unique(maintain_order=True).iter_rows()
        for index, (group_code, group_name) in enumerate(groups):
            part = frame.filter(pl.col(split) == group_code)
            figure.add_trace(
                go.Scatter(
                    x=part["period"].to_list(),
                    y=part[value].to_list(),
                    name=group_name,
                    mode="lines+markers",
                    line={
                        "color": colours.get(group_code, NHS_MID_GREY),
                        "width": 2,
                        "dash": LINE_DASHES[index % len(LINE_DASHES)],
                    },
                    hovertemplate=f"%{{x}}<br>{group_name}: %{{y:,}} deaths<extra></extra>",
                )
            )
    figure.update_yaxes(title_text="Deaths", rangemode="tozero")
    figure.update_xaxes(type="category")
    return _layout(figure, height=340, legend=split is not None)


def heatmap(
    frame: pl.DataFrame,
    row: str,
    column: str,
    value: str = "deaths",
    rows_limit: int = BAR_LIMIT,
    columns_limit: int = 25,
) -> go.Figure:
    """Rows x columns of counts (the busiest of each), with the count written in each cell."""
    if frame.height == 0:
        return empty()
    rows = (
        frame.group_by(row)
        .agg(pl.col(value).sum())
        .sort([value, row], descending=[True, False])
        .head(rows_limit)
        .reverse()[row]
        .to_list()
    )
    columns = (
        frame.group_by(column)
        .agg(pl.col(value).sum())
        .sort([value, column], descending=[True, False])
        .head(columns_limit)[column]
        .to_list()
    )
    lookup = {(r, c): v for r, c, v in frame.select(row, column, value).iter_rows()}
    z = [[lookup.get((r, c), 0) for c in columns] for r in rows]
    text = [[str(v) if v else "" for v in line] for line in z]
    figure = go.Figure(
        go.Heatmap(
            z=z,
            x=columns,
            y=rows,
            text=text,
            texttemplate="%{text}",
            colorscale=[[0, "#FFFFFF"], [1, NHS_DARK_BLUE]],
            showscale=False,
            hovertemplate="%{y}<br>reviewed by %{x}: %{z:,} deaths<extra></extra>",
            xgap=1,
            ygap=1,
        )
    )
    figure.update_xaxes(tickangle=-40, side="top")
    return _layout(figure, height=_bar_height(len(rows)) + 120)

"""Trends: deaths by month, financial quarter or financial year, optionally split."""

from __future__ import annotations

from typing import Any

import polars as pl
from dash import Input, Output, State, dcc, html
from dash.exceptions import PreventUpdate

from dashboard import figures, ids
from dashboard.callbacks import Callbacks
from dashboard.clicks import download_href
from dashboard.components import chart_card, table
from dashboard.context import view_for
from dashboard.text import period_label
from dashboard.urlstate import first
from queries import report

callbacks = Callbacks()
PATH = "/trends"
NAME = "Trends"

GRAINS = {"month": "Month", "quarter": "Financial quarter", "financial_year": "Financial year"}
SPLITS = {
    "none": "No split",
    "place": "Place in hospital",
    "age_group": "Age group",
    "residence_group": "Residence",
    "review_group": "Who reviews",
}
SPLIT_LABELS = {
    "place": "place_label",
    "age_group": "age_group_label",
    "residence_group": "residence_group_label",
    "review_group": "review_group_label",
}
DEFAULT_GRAIN, DEFAULT_SPLIT = "quarter", "none"


def layout(grain: str = DEFAULT_GRAIN, split: str = DEFAULT_SPLIT, **_query: Any) -> html.Div:
    grain = grain if grain in GRAINS else DEFAULT_GRAIN
    split = split if split in SPLITS else DEFAULT_SPLIT
    return html.Div(
        [
            html.H1("Trends"),
            html.Div(
                className="controls",
                children=[
                    html.Fieldset(
                        [
                            html.Legend("Count deaths by"),
                            dcc.RadioItems(
                                id=ids.TREND_GRAIN,
                                options=[{"label": v, "value": k} for k, v in GRAINS.items()],
                                value=grain,
                                inline=True,
                                className="radio",
                            ),
                        ]
                    ),
                    html.Fieldset(
                        [
                            html.Legend("Split by"),
                            dcc.RadioItems(
                                id=ids.TREND_SPLIT,
                                options=[{"label": v, "value": k} for k, v in SPLITS.items()],
                                value=split,
                                inline=True,
                                className="radio",
                            ),
                        ]
                    ),
                ],
            ),
            chart_card(ids.TREND_CHART, "Deaths in hospital over time", wide=True),
            html.Div(id=ids.part(ids.TREND_CHART, "table"), className="card"),
        ]
    )


def period_table(frame: pl.DataFrame, split_label: str | None) -> pl.DataFrame:
    if split_label is None or frame.height == 0:
        return frame.select("period", "deaths")
    return frame.pivot(on=split_label, index="period", values="deaths", aggregate_function="sum").fill_null(0)


@callbacks(
    Output(ids.part(ids.TREND_CHART, "title"), "children"),
    Output(ids.TREND_CHART, "figure"),
    Output(ids.part(ids.TREND_CHART, "summary"), "children"),
    Output(ids.part(ids.TREND_CHART, "download"), "href"),
    Output(ids.part(ids.TREND_CHART, "table"), "children"),
    Input(ids.URL, "search"),
)
def refresh(search: Any) -> tuple[Any, ...]:
    view = view_for(search, page=PATH)
    try:
        grain = first(view.params, "grain")
        grain = grain if grain in GRAINS else DEFAULT_GRAIN
        split = first(view.params, "split")
        split = split if split in SPLIT_LABELS else None
        frame = report.by_period(view.conn, view.scope, view.filters, grain, split)
        period = period_label(view.filters, view.options)
        split_label = SPLIT_LABELS.get(split or "")
        by = f", by {SPLITS[split].lower()}" if split else ""
        title = f"Deaths in hospital by {GRAINS[grain].lower()}{by}, {period}"
        totals = frame.group_by("period", maintain_order=True).agg(pl.col("deaths").sum())
        peak = totals.sort("deaths", descending=True).row(0) if totals.height else None
        summary = (
            f"{totals.height} periods; the most deaths ({peak[1]:,}) in {peak[0]}."
            if peak
            else "No deaths in this period."
        )
        wide = period_table(frame, split_label)
        numeric = [c for c in wide.columns if c != "period"]
        data_table = table(
            wide,
            [("period", GRAINS[grain]), *((c, "Deaths" if c == "deaths" else c) for c in numeric)],
            title,
            numeric=numeric,
            limit=400,
        )
        figure = figures.trend(frame, split, split_label, bars=split is None and grain != "month")
        return (title, figure, summary, download_href("trend", view.query(grain=grain, split=split)), data_table)
    finally:
        view.close()


@callbacks(
    Output(ids.URL, "search", allow_duplicate=True),
    Input(ids.TREND_GRAIN, "value"),
    Input(ids.TREND_SPLIT, "value"),
    State(ids.URL, "search"),
    prevent_initial_call=True,
)
def remember_choice(grain: Any, split: Any, search: Any) -> str:
    """Keep the chosen grain and split in the URL, so the view can be bookmarked."""
    if grain not in GRAINS or split not in SPLITS:
        raise PreventUpdate
    view = view_for(search)
    try:
        query = view.query(
            grain=None if grain == DEFAULT_GRAIN else grain, split=None if split == DEFAULT_SPLIT else split
        )
    finally:
        view.close()
    if query == (search or ""):
        raise PreventUpdate
    return query

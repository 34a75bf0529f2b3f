"""Trends: deaths by month, financial quarter or financial year, optionally split."""

from __future__ import annotations

from typing import Any

import polars as pl
from dash import Input, Output, State, html

from dashboard.callbacks import Callbacks
from dashboard.context import opened_view
from dashboard.pack.spec import PackTable, Params
from dashboard.ui import figures, ids, toggles
from dashboard.ui.clicks import download_href
from dashboard.ui.components import chart_card, table
from dashboard.ui.filter_bar import BAR_STATE, sync_filter_bar
from dashboard.ui.text import period_label
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


def _split(params: Params) -> str | None:
    return SPLIT_LABELS.get(first(params, "split") or "")


def _chart(params: Params) -> str:
    """As on screen: bars for one series by quarter or year, lines otherwise."""
    return (
        "column" if _split(params) is None and first(params, "grain") in (None, "quarter", "financial_year") else "line"
    )


def _title(params: Params) -> str:
    """As the chart's title says it (``refresh``), for the pack's sheet."""
    grain = first(params, "grain")
    split = first(params, "split")
    by = f", by {SPLITS[split].lower()}" if split in SPLIT_LABELS else ""
    return f"Deaths in hospital by {GRAINS[grain if grain in GRAINS else DEFAULT_GRAIN].lower()}{by}"


# its table in the panel pack (dashboard.pack): the CSV of the chart, by the page's grain and split
PACK = (PackTable("trend", _title, "period", _split, _chart),)

GRAIN_BUTTONS = {key: f"{ids.TREND_GRAIN}-{key}" for key in GRAINS}
SPLIT_BUTTONS = {key: f"{ids.TREND_SPLIT}-{key.replace('_', '-')}" for key in SPLITS}


def layout(grain: str = DEFAULT_GRAIN, split: str = DEFAULT_SPLIT, **_query: Any) -> html.Div:
    grain = grain if grain in GRAINS else DEFAULT_GRAIN
    split = split if split in SPLITS else DEFAULT_SPLIT
    return html.Div(
        [
            html.H1("Trends"),
            html.Div(
                className="controls",
                children=[
                    toggles.toggle_group("Count deaths by", GRAIN_BUTTONS, GRAINS, grain),
                    toggles.toggle_group("Split by", SPLIT_BUTTONS, SPLITS, split),
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
    *(
        Output(button, prop)
        for button in (*GRAIN_BUTTONS.values(), *SPLIT_BUTTONS.values())
        for prop in ("aria-pressed", "className")
    ),
    Input(ids.URL, "search"),
    *BAR_STATE,
)
def refresh(search: Any, *bar: Any) -> tuple[Any, ...]:
    with opened_view(search, page=PATH) as view:
        sync_filter_bar(view, search, bar)
        grain = first(view.params, "grain")
        grain = grain if grain in GRAINS else DEFAULT_GRAIN
        split = first(view.params, "split")
        split = split if split in SPLIT_LABELS else None
        frame = report.by_period(view.conn, view.scope, view.filters, grain, split)
        period = period_label(view.filters, view.options)
        split_label = SPLIT_LABELS.get(split or "")
        by = f", by {SPLITS[split].lower()}" if split else ""
        title = f"Deaths in hospital by {GRAINS[grain].lower()}{by}, {period}"
        totals: dict[str, int] = {}  # a few dozen rows: plain Python beats polars' per-call cost
        for label, deaths in zip(frame["period"].to_list(), frame["deaths"].to_list(), strict=True):
            totals[label] = totals.get(label, 0) + deaths
        peak = max(totals.items(), key=lambda item: item[1]) if totals else None  # the first of equals
        summary = (
            f"{len(totals)} periods; the most deaths ({peak[1]:,}) in {peak[0]}."
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
        pressed = [*toggles.pressed_states(GRAINS, grain), *toggles.pressed_states(SPLITS, split or DEFAULT_SPLIT)]
        return (
            title,
            figure,
            summary,
            download_href("trend", view.query(grain=grain, split=split)),
            data_table,
            *pressed,
        )


CHOICES = (
    toggles.Choice("grain", GRAIN_BUTTONS, DEFAULT_GRAIN),
    toggles.Choice("split", SPLIT_BUTTONS, DEFAULT_SPLIT),
)


@callbacks(
    Output(ids.URL, "search", allow_duplicate=True),
    *toggles.button_inputs(CHOICES),
    State(ids.URL, "search"),
    prevent_initial_call=True,
)
def remember_choice(*values: Any) -> str:
    """A pressed button changes the grain or the split; both live in the URL,
    so the view can be bookmarked."""
    return toggles.chosen_query(values[-1], CHOICES)

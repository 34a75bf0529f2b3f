"""Reviews: are the deaths in our hospitals being reviewed, by whom, how fast,
and how do we compare with England."""

from __future__ import annotations

from typing import Any

import polars as pl
from dash import Input, Output, State, html

from dashboard import review_tables as tables
from dashboard.callbacks import Callbacks
from dashboard.context import View, opened_view
from dashboard.pack.spec import PackTable
from dashboard.ui import ids, review_figures, unchanged
from dashboard.ui.clicks import download_href
from dashboard.ui.components import card_outputs, card_values, chart_card, table
from dashboard.ui.filter_bar import BAR_STATE, sync_filter_bar
from dashboard.ui.text import long_date, number, period_label
from dashboard.ui.toggles import Choice, button_inputs, chosen_query, pressed_states, toggle_group
from queries.intervals import MIN_DENOMINATOR

callbacks = Callbacks()
PATH = "/reviews"
NAME = "Reviews"

WINDOW_BUTTONS = {key: f"{ids.REVIEWS_WINDOW}-{key}" for key in tables.WINDOW_CHOICES}
BY_BUTTONS = {key: f"{ids.REVIEWS_BY}-{key.replace('_', '-')}" for key in tables.BY_CHOICES}
TOO_FEW = f"fewer than {MIN_DENOMINATOR}"
# the page's tables in the panel pack: its CSVs, laid out as on the page
_BANDS_ONLY = ("group", "band", "total", "share", "low", "high")
_COMPARED = ("measure",)
PACK = (
    PackTable(
        "review-timeliness",
        "Completed reviews by time from death to completion",
        "label",
        "band_label",
        drop=_BANDS_ONLY,
        value="reviews",
    ),
    PackTable(
        "review-days",
        "Days from death to completed review (median and quartiles)",
        "label",
        chart="none",
        drop=("group",),
        value="reviews",
    ),
    PackTable(
        "review-open", "Open reviews by time since the death", "label", "band_label", drop=_BANDS_ONLY, value="reviews"
    ),
    PackTable(
        "review-england", "Shares of deaths and reviews compared with England", "label", drop=_COMPARED, value="count"
    ),
    PackTable("review-windows", "Pooled years against the window before", "label", drop=_COMPARED, value="current"),
    PackTable("review-categories", "Completed reviews by category of death", "label", drop=_COMPARED, value="count"),
    PackTable("review-expected", "Expected and unexpected deaths", "label", drop=_COMPARED, value="count"),
)


def table_card(name: str, heading: str) -> html.Section:
    """A titled table with a CSV link, filled by the page's callback."""
    return html.Section(
        className="card wide",
        **{"aria-labelledby": ids.part(name, "title")},
        children=[
            html.H2(heading, id=ids.part(name, "title")),
            html.Div(id=ids.part(name, "table")),
            html.P(id=ids.part(name, "summary"), className="summary"),
            html.A("Download these figures (CSV)", id=ids.part(name, "download"), href="", className="download"),
        ],
    )


def layout(window: str = tables.DEFAULT_WINDOW, by: str = tables.DEFAULT_BY, **_query: Any) -> html.Div:
    window = window if window in tables.WINDOW_CHOICES else tables.DEFAULT_WINDOW
    by = by if by in tables.BY_CHOICES else tables.DEFAULT_BY
    return html.Div(
        [
            html.H1("Reviews"),
            html.P(id=ids.REVIEWS_PERIOD, className="lede"),
            html.Details(
                className="definitions",
                children=[
                    html.Summary("How these figures are counted"),
                    html.Ul([html.Li(text) for text in tables.DEFINITIONS]),
                ],
            ),
            html.Div(
                className="controls",
                children=[
                    toggle_group("Break timeliness down by", BY_BUTTONS, tables.BY_CHOICES, by),
                    toggle_group("Pool financial years", WINDOW_BUTTONS, tables.WINDOW_CHOICES, window),
                ],
            ),
            html.Div(
                className="grid",
                children=[
                    chart_card(
                        ids.REVIEWS_TIMELINESS,
                        "Completed reviews by time from death to completion",
                        wide=True,
                        hint="Each bar is 100% of the reviews completed; the table gives the counts.",
                    ),
                    html.Div(id=ids.part(ids.REVIEWS_TIMELINESS, "table"), className="card wide"),
                    table_card(ids.REVIEWS_OPEN, "Open reviews by time since the death"),
                    chart_card(
                        ids.REVIEWS_ENGLAND,
                        "Compared with England",
                        wide=True,
                        hint="Bars: this view, with its 95% interval. Diamonds: England under the same filters.",
                    ),
                    html.Div(id=ids.part(ids.REVIEWS_ENGLAND, "table"), className="card wide"),
                    table_card(ids.REVIEWS_POOLED, "Pooled years, against the window before"),
                    chart_card(
                        ids.REVIEWS_CATEGORIES,
                        "Category of death, completed reviews",
                        wide=True,
                        hint="Bars: this view, with its 95% interval. Diamonds: England under the same filters.",
                    ),
                    html.Div(id=ids.part(ids.REVIEWS_CATEGORIES, "table"), className="card wide"),
                    table_card(ids.REVIEWS_EXPECTED, "Expected and unexpected deaths"),
                ],
            ),
        ]
    )


def percent(value: float | None) -> str:
    return TOO_FEW if value is None else f"{100 * value:.0f}%"


def with_interval(share: float | None, low: float | None, high: float | None) -> str:
    if share is None or low is None or high is None:
        return TOO_FEW
    return f"{100 * share:.0f}% ({100 * low:.0f}% to {100 * high:.0f}%)"


def change(now: int, before: int) -> str:
    """The change against the previous window, as annual reports write it."""
    difference = now - before
    if difference == 0:
        return "no change"
    return f"↑ {difference:,}" if difference > 0 else f"↓ {-difference:,}"


def banded_table(bands: pl.DataFrame, days: pl.DataFrame | None, first_header: str) -> pl.DataFrame:
    """One row per group: its total, each band as "count (share)", and the median days."""
    medians = {} if days is None else {row["group"]: row for row in days.iter_rows(named=True)}
    rows: dict[str, dict[str, Any]] = {}
    for row in bands.iter_rows(named=True):
        out = rows.setdefault(row["group"], {first_header: row["label"], "total": row["total"]})
        share = "" if row["share"] is None else f" ({100 * row['share']:.0f}%)"
        out[row["band_label"]] = f"{row['reviews']:,}{share}"
    for group, out in rows.items():
        if days is not None:
            found = medians.get(group)
            out["median"] = (
                f"{found['median_days']:.0f} ({found['q1_days']:.0f} to {found['q3_days']:.0f})" if found else "–"
            )
    schema = {first_header: pl.String, "total": pl.Int64, **dict.fromkeys(tables.BAND_LABELS, pl.String)}
    if days is not None:
        schema["median"] = pl.String
    return pl.DataFrame(list(rows.values()), schema=schema)


def compared_table(frame: pl.DataFrame) -> pl.DataFrame:
    return pl.DataFrame(
        {
            "label": frame["label"].to_list(),
            "count": [f"{n:,} of {total:,}" for n, total in zip(frame["count"], frame["total"], strict=True)],
            "share": [with_interval(*row) for row in frame.select("share", "low", "high").iter_rows()],
            "england": [percent(share) for share in frame["england_share"].to_list()],
            "marker": [marker or "–" for marker in frame["marker"].to_list()],
        }
    )


def pooled_table(frame: pl.DataFrame, window: tables.Window) -> pl.DataFrame:
    previous = frame["previous"].to_list()
    return pl.DataFrame(
        {
            "label": frame["label"].to_list(),
            "current": [f"{n:,}" for n in frame["current"].to_list()],
            "current_share": [
                percent(value) if measure in tables.SHARE_MEASURES else ""
                for value, measure in zip(frame["current_share"], frame["measure"], strict=True)
            ],
            "previous": [f"{n:,}" for n in previous],
            "change": [
                change(now, before) if window.previous_complete else "data start later"
                for now, before in zip(frame["current"], previous, strict=True)
            ],
        }
    )


COMPARED_COLUMNS = [
    ("label", "Share"),
    ("count", "Count"),
    ("share", "This view (95% interval)"),
    ("england", "England"),
    ("marker", "Against England"),
]


def _compared(frame: pl.DataFrame, caption: str) -> html.Div:
    return table(compared_table(frame), COMPARED_COLUMNS, caption, numeric=["count"])


# Three callbacks, each drawing its part of the page as soon as it is ready: the browser asks for them
# together, and the server answers them side by side. Each one's text is sent only where it differs
# from what the browser shows (``dashboard.ui.unchanged``).
REFRESH_TEXT = (
    Output(ids.REVIEWS_PERIOD, "children"),
    *card_outputs([ids.REVIEWS_TIMELINESS, ids.REVIEWS_OPEN]),
    *(
        Output(button, prop)
        for button in (*BY_BUTTONS.values(), *WINDOW_BUTTONS.values())
        for prop in ("aria-pressed", "className")
    ),
)
ENGLAND_TEXT = tuple(card_outputs([ids.REVIEWS_ENGLAND]))
WINDOWS_TEXT = tuple(card_outputs([ids.REVIEWS_POOLED, ids.REVIEWS_CATEGORIES, ids.REVIEWS_EXPECTED]))


@callbacks(
    *REFRESH_TEXT,
    Output(ids.REVIEWS_TIMELINESS, "figure"),
    Output(ids.part(ids.REVIEWS_TIMELINESS, "table"), "children"),
    Output(ids.part(ids.REVIEWS_OPEN, "table"), "children"),
    Input(ids.URL, "search"),
    *BAR_STATE,
    *unchanged.held(REFRESH_TEXT),
)
def refresh(search: Any, *states: Any) -> tuple[Any, ...]:
    """How fast reviews are done: the lede, completed and open reviews in bands, the controls."""
    bar, shown = states[: len(BAR_STATE)], states[len(BAR_STATE) :]
    with opened_view(search, page=PATH) as view:
        sync_filter_bar(view, search, bar)
        period = period_label(view.filters, view.options)
        by = tables.breakdown(view)
        completed, still_open, days = tables.completed(view), tables.still_open(view), tables.days(view)
        as_at = tables.as_at(view)
        query = _query(view)
        by_words = tables.BY_CHOICES[by].lower()
        completed_total = _total(completed)
        within = completed.filter(pl.col("band") != "over_12m").group_by("group").agg(pl.col("reviews").sum())
        within_total = int(within["reviews"].sum()) if within.height else 0
        parts = {
            ids.REVIEWS_TIMELINESS: (
                f"Completed reviews by time from death to completion, by {by_words}, {period}",
                f"{completed_total:,} reviews completed; {within_total:,} of them within 12 months of the death"
                + (f" ({100 * within_total / completed_total:.0f}%)." if completed_total else "."),
                download_href("review-timeliness", query),
            ),
            ids.REVIEWS_OPEN: (
                f"Open reviews (notified or under review) by time since the death at {long_date(as_at)}, by {by_words}",
                f"{_total(still_open):,} reviews open at {long_date(as_at)}.",
                download_href("review-open", query),
            ),
        }
        first_header = tables.BY_CHOICES[by]
        band_columns = [(label, label) for label in tables.BAND_LABELS]
        window = tables.window_of(view)
        text = (
            f"Reviews of the deaths in hospitals of {view.scope.label}, {period}; "
            f"open reviews aged at {long_date(as_at)}, the date the data describe.",
            *card_values(parts, [ids.REVIEWS_TIMELINESS, ids.REVIEWS_OPEN]),
            *pressed_states(tables.BY_CHOICES, by),
            *pressed_states(tables.WINDOW_CHOICES, str(window.length) if window else tables.DEFAULT_WINDOW),
        )
        return (
            *unchanged.only_changed(text, shown),
            review_figures.banded(completed),
            table(
                banded_table(completed, days, first_header),
                [(first_header, first_header), ("total", "Completed"), *band_columns, ("median", "Median days (IQR)")],
                parts[ids.REVIEWS_TIMELINESS][0],
                numeric=["total", *tables.BAND_LABELS, "median"],
            ),
            table(
                banded_table(still_open, None, first_header),
                [(first_header, first_header), ("total", "Open"), *band_columns],
                parts[ids.REVIEWS_OPEN][0],
                numeric=["total", *tables.BAND_LABELS],
            ),
        )


@callbacks(
    *ENGLAND_TEXT,
    Output(ids.REVIEWS_ENGLAND, "figure"),
    Output(ids.part(ids.REVIEWS_ENGLAND, "table"), "children"),
    Input(ids.URL, "search"),
    *unchanged.held(ENGLAND_TEXT),
)
def refresh_england(search: Any, *shown: Any) -> tuple[Any, ...]:
    """Every share the footprint shows, with England's beside."""
    with opened_view(search) as view:
        period = period_label(view.filters, view.options)
        england = tables.england(view)
        title = f"Shares of deaths and reviews compared with England, {period}"
        parts = {ids.REVIEWS_ENGLAND: (title, england_summary(england), download_href("review-england", _query(view)))}
        return (
            *unchanged.only_changed(card_values(parts, [ids.REVIEWS_ENGLAND]), shown),
            review_figures.compared(england),
            _compared(england, title),
        )


@callbacks(
    *WINDOWS_TEXT,
    Output(ids.part(ids.REVIEWS_POOLED, "table"), "children"),
    Output(ids.REVIEWS_CATEGORIES, "figure"),
    Output(ids.part(ids.REVIEWS_CATEGORIES, "table"), "children"),
    Output(ids.part(ids.REVIEWS_EXPECTED, "table"), "children"),
    Input(ids.URL, "search"),
    *unchanged.held(WINDOWS_TEXT),
)
def refresh_windows(search: Any, *shown: Any) -> tuple[Any, ...]:
    """Pooled years against the window before, and what the deaths were."""
    with opened_view(search) as view:
        window = tables.window_of(view)
        pooled = tables.windows(view)
        categories, expected = tables.categories(view), tables.expected(view)
        query = _query(view)
        window_words = window.label if window else "no deaths"
        parts = {
            ids.REVIEWS_POOLED: (
                f"Pooled {tables.WINDOW_CHOICES[str(window.length)] if window else ''}: "
                f"{window_words} against {window.previous_label if window else 'the window before'}",
                pooled_summary(window),
                download_href("review-windows", query),
            ),
            ids.REVIEWS_CATEGORIES: (
                f"Completed reviews by category of death, {window_words}",
                categories_summary(categories),
                download_href("review-categories", query),
            ),
            ids.REVIEWS_EXPECTED: (
                f"Expected and unexpected deaths, {window_words}",
                "Whether the death was expected 24 hours before it, as the notification records it.",
                download_href("review-expected", query),
            ),
        }
        pooled_columns = [
            ("label", "Measure"),
            ("current", window.label if window else "Window"),
            ("current_share", "Share"),
            ("previous", window.previous_label if window else "Window before"),
            ("change", "Change"),
        ]
        return (
            *unchanged.only_changed(
                card_values(parts, [ids.REVIEWS_POOLED, ids.REVIEWS_CATEGORIES, ids.REVIEWS_EXPECTED]), shown
            ),
            table(
                pooled_table(pooled, window) if window else pooled,
                pooled_columns,
                parts[ids.REVIEWS_POOLED][0],
                numeric=["current", "current_share", "previous", "change"],
            ),
            review_figures.compared(categories),
            _compared(categories, parts[ids.REVIEWS_CATEGORIES][0]),
            _compared(expected, parts[ids.REVIEWS_EXPECTED][0]),
        )


def _query(view: View) -> str:
    """The view's query with the page's own settings, cleaned, for its download links."""
    return view.query(window=tables.window_length_param(view), by=tables.by_param(view))


def _total(bands: pl.DataFrame) -> int:
    return int(bands.unique("group")["total"].sum()) if bands.height else 0


def england_summary(england: pl.DataFrame) -> str:
    differing = [
        f"{row['label'].lower()}: {row['marker']}"
        for row in england.iter_rows(named=True)
        if row["marker"] in ("higher than England", "lower than England")
    ]
    if not differing:
        return "No share differs from England's beyond its 95% interval."
    return "Beyond the 95% interval: " + "; ".join(differing) + "."


def categories_summary(categories: pl.DataFrame) -> str:
    total = int(categories["total"][0]) if categories.height else 0
    if total == 0:
        return "No completed reviews in this window."
    top = categories.sort("count", descending=True).row(0, named=True)
    return f"{total:,} completed reviews; the most often recorded category: {top['label']} ({number(top['count'])})."


def pooled_summary(window: tables.Window | None) -> str:
    if window is None:
        return "No deaths in this footprint."
    if not window.previous_complete:
        return f"The data start after {window.previous_label} began, so no change is given against it."
    return f"Changes are against {window.previous_label}, a window of the same length."


CHOICES = (
    Choice("by", BY_BUTTONS, tables.DEFAULT_BY),
    Choice("window", WINDOW_BUTTONS, tables.DEFAULT_WINDOW),
)


@callbacks(
    Output(ids.URL, "search", allow_duplicate=True),
    *button_inputs(CHOICES),
    State(ids.URL, "search"),
    prevent_initial_call=True,
)
def remember_choice(*values: Any) -> str:
    """A pressed button changes the breakdown or the window; both live in the URL."""
    return chosen_query(values[-1], CHOICES)

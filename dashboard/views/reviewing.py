"""Reviewing CDOPs: who reviews the deaths in our hospitals."""

from __future__ import annotations

from typing import Any

import polars as pl
from dash import Input, Output, html

from dashboard.callbacks import Callbacks
from dashboard.context import opened_view
from dashboard.pack.spec import PackTable
from dashboard.review_tables import with_england
from dashboard.ui import figures, ids, unchanged
from dashboard.ui.clicks import bar_clicks_filter, download_href
from dashboard.ui.components import (
    card_outputs,
    card_values,
    chart_card,
    table,
    tile,
    tile_outputs,
    tile_slots,
    tile_values,
)
from dashboard.ui.filter_bar import BAR_STATE, sync_filter_bar
from dashboard.ui.text import chart_limit_note, number, period_label, share
from queries import report

callbacks = Callbacks()
PATH = "/reviewing"
NAME = "Reviewing CDOPs"

CHARTS = (ids.REVIEW_BY_CDOP, ids.REVIEW_BY_SITE, ids.REVIEW_RESIDENCE, ids.REVIEW_MATRIX)
HEADLINE_TILES = 4
# its tables in the panel pack (dashboard.pack): the CSVs its cards link to
PACK = (
    PackTable("by-reviewing-cdop", "Deaths in hospital by reviewing CDOP", "reviewing_cdop_name"),
    PackTable("site-by-review-group", "Deaths in each hospital by who reviews them", "site_name", "review_group_label"),
    PackTable(
        "site-by-residence-group",
        "Deaths in each hospital by where the child lived",
        "site_name",
        "residence_group_label",
    ),
    PackTable(
        "site-by-reviewing-cdop",
        "Deaths by hospital and reviewing CDOP",
        "site_name",
        "reviewing_cdop_name",
        drop=("reviewing_cdop_code",),
    ),
)
# the headline's groups; deaths by reviewer, and each hospital by review group, by residence, by reviewer
BREAKDOWNS = [
    ["residence_group", "review_group"],
    ["reviewing_cdop", "review_group"],
    ["site", "review_group"],
    ["site", "residence_group"],
    ["site", "reviewing_cdop"],
]
MATRIX_TABLE_COLUMNS = 12  # reviewing CDOPs shown as table columns; the CSV has them all
OTHER_CDOPS = "All other CDOPs"


def layout(**_query: Any) -> html.Div:
    return html.Div(
        [
            html.H1("Reviewing CDOPs"),
            html.P(
                "Which CDOPs review the deaths that happen in this footprint's hospitals. Deaths of "
                "non-residents are usually reviewed by the CDOP where the child lived; some are not yet assigned.",
                className="lede",
            ),
            html.Div(
                tile_slots(ids.REVIEW_HEADLINE, HEADLINE_TILES),
                id=ids.REVIEW_HEADLINE,
                className="tiles",
                **{"aria-live": "polite"},
            ),
            html.Div(
                className="grid",
                children=[
                    chart_card(ids.REVIEW_BY_CDOP, "Deaths in hospital by reviewing CDOP", clickable=True),
                    chart_card(ids.REVIEW_BY_SITE, "Who reviews the deaths in each hospital"),
                    chart_card(ids.REVIEW_RESIDENCE, "Where the children who died in each hospital lived", wide=True),
                    chart_card(ids.REVIEW_MATRIX, "Hospital by reviewing CDOP", wide=True),
                ],
            ),
        ]
    )


def matrix_table(matrix: pl.DataFrame) -> pl.DataFrame:
    """Hospitals as rows (most deaths first), the busiest reviewing CDOPs as columns."""
    if matrix.height == 0:
        return pl.DataFrame({"site_name": []}, schema={"site_name": pl.String})
    rows = list(zip(*(matrix[c].to_list() for c in ("site_name", "reviewing_cdop_name", "deaths")), strict=True))
    by_reviewer: dict[str, int] = {}
    for _, reviewer, deaths in rows:
        by_reviewer[reviewer] = by_reviewer.get(reviewer, 0) + deaths
    busiest = sorted(by_reviewer, key=lambda r: (-by_reviewer[r], r))[:MATRIX_TABLE_COLUMNS]
    shown = set(busiest)
    cells: dict[str, dict[str, int]] = {}
    for site, reviewer, deaths in rows:
        column = reviewer if reviewer in shown else OTHER_CDOPS
        cells.setdefault(site, {})
        cells[site][column] = cells[site].get(column, 0) + deaths
    columns = busiest + ([OTHER_CDOPS] if len(by_reviewer) > len(busiest) else [])
    totals = {site: sum(counts.values()) for site, counts in cells.items()}
    sites = sorted(cells, key=lambda s: (-totals[s], s))
    return pl.DataFrame(
        {
            "site_name": sites,
            **{column: [cells[s].get(column, 0) for s in sites] for column in columns},
            "Total": [totals[s] for s in sites],
        }
    )


# the page's text, sent only where it differs from what the browser shows (``dashboard.ui.unchanged``)
TEXT = (*tile_outputs(ids.REVIEW_HEADLINE, HEADLINE_TILES), *card_outputs(CHARTS))


@callbacks(
    *TEXT,
    *(Output(name, "figure") for name in CHARTS),
    Input(ids.URL, "search"),
    *BAR_STATE,
    *unchanged.held(TEXT),
)
def refresh(search: Any, *states: Any) -> tuple[Any, ...]:
    bar, shown = states[: len(BAR_STATE)], states[len(BAR_STATE) :]
    with opened_view(search, page=PATH) as view:
        sync_filter_bar(view, search, bar)
        conn, scope, filters = view.conn, view.scope, view.filters
        period = period_label(filters, view.options)
        # one statement for every breakdown
        groups, reviewers, by_site, residence, matrix = report.counts_many(conn, scope, filters, BREAKDOWNS, view.names)
        head = report.headline_from(groups).row(0, named=True)
        deaths = head["deaths"]
        non_res = head["non_residents"]
        wide_matrix = matrix_table(matrix)
        tiles = [
            tile("Deaths in this footprint's hospitals", number(deaths)),
            tile(
                "Reviewed elsewhere",
                share(head["reviewed_by_another_cdop"], deaths),
                with_england(
                    f"{number(head['reviewed_by_another_cdop'])} deaths reviewed by another CDOP",
                    view,
                    "reviewed_elsewhere",
                    head["reviewed_by_another_cdop"],
                    deaths,
                ),
                tone="highlight" if head["reviewed_by_another_cdop"] else "",
            ),
            tile(
                "Deaths of non-residents",
                number(non_res),
                with_england(f"{share(non_res, deaths)} of deaths", view, "non_residents", non_res, deaths),
                tone="highlight" if non_res else "",
            ),
            tile(
                "Not yet assigned",
                number(head["not_yet_assigned"]),
                with_england("no reviewing CDOP recorded yet", view, "unassigned", head["not_yet_assigned"], deaths),
                tone="warning" if head["not_yet_assigned"] else "",
            ),
        ]
        query = view.query()
        top = reviewers.sort("deaths", descending=True).row(0, named=True) if reviewers.height else None
        other = int(by_site.filter(pl.col("review_group") == "other")["deaths"].sum()) if by_site.height else 0
        parts = {
            ids.REVIEW_BY_CDOP: (
                f"Deaths in hospital by reviewing CDOP, {period}",
                f"{reviewers['reviewing_cdop_code'].n_unique()} reviewing CDOPs (or none yet); most by "
                f"{top['reviewing_cdop_name']} ({top['deaths']:,})."
                + chart_limit_note(reviewers["reviewing_cdop_code"].n_unique(), figures.BAR_LIMIT)
                if top
                else "No deaths.",
                download_href("by-reviewing-cdop", query),
            ),
            ids.REVIEW_BY_SITE: (
                f"Deaths in each hospital by who reviews them, {period}",
                f"{other:,} of {deaths:,} deaths are reviewed by a CDOP other than the local one."
                + chart_limit_note(by_site["site_code"].n_unique(), figures.BAR_LIMIT),
                download_href("site-by-review-group", query),
            ),
            ids.REVIEW_RESIDENCE: (
                f"Deaths in each hospital by where the child lived, {period}",
                f"{non_res:,} of {deaths:,} children who died lived outside this footprint."
                + chart_limit_note(residence["site_code"].n_unique(), figures.BAR_LIMIT),
                download_href("site-by-residence-group", query),
            ),
            ids.REVIEW_MATRIX: (
                f"Deaths by hospital and reviewing CDOP, {period}",
                html.Div(
                    [
                        html.P("The same counts as a table:"),
                        table(
                            wide_matrix,
                            [(c, "Hospital" if c == "site_name" else c) for c in wide_matrix.columns],
                            f"Deaths by hospital and reviewing CDOP, {period}",
                            numeric=[c for c in wide_matrix.columns if c != "site_name"],
                        ),
                    ]
                ),
                download_href("site-by-reviewing-cdop", query),
            ),
        }
        reviewer_bars = reviewers.group_by("reviewing_cdop_code", "reviewing_cdop_name").agg(pl.col("deaths").sum())
        figs = (
            figures.horizontal_bars(reviewer_bars, "reviewing_cdop_name", "reviewing_cdop_code"),
            figures.stacked_horizontal(
                by_site, "site_name", "site_code", "review_group", "review_group_label", figures.REVIEW_COLOURS
            ),
            figures.stacked_horizontal(
                residence,
                "site_name",
                "site_code",
                "residence_group",
                "residence_group_label",
                figures.RESIDENCE_COLOURS,
            ),
            figures.heatmap(matrix, "site_name", "reviewing_cdop_name"),
        )
        text = (*tile_values(tiles, HEADLINE_TILES), *card_values(parts, CHARTS))
        return (*unchanged.only_changed(text, shown), *figs)


# a click on a reviewing CDOP's bar filters every view by it
bar_clicks_filter(callbacks, {ids.REVIEW_BY_CDOP: (ids.FILTER_REVIEWER, ())})

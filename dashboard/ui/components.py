"""Reusable pieces of layout: chart cards, tables, headline tiles."""

from __future__ import annotations

from collections.abc import Sequence
from typing import NamedTuple

import polars as pl
from dash import Output, dcc, html

from dashboard.ui import ids

GRAPH_CONFIG = {
    "displaylogo": False,
    "responsive": True,
    "modeBarButtonsToRemove": ["select2d", "lasso2d", "autoScale2d", "toggleSpikelines"],
    "toImageButtonOptions": {"format": "png", "scale": 2},
}


def colour_key(colours: dict[str, str], labels: dict[str, str]) -> html.Ul:
    """A chart's colours named in the page, not in the figure: drawn once with the page, never again
    on a filter change. Every colour of ``colours``, in order, with its label."""
    return html.Ul(
        className="colour-key",
        **{"aria-label": "Colours of the chart"},
        children=[
            html.Li([html.Span(className="swatch", style={"backgroundColor": colour}), labels[code]])
            for code, colour in colours.items()
        ],
    )


def chart_card(
    name: str,
    heading: str,
    *,
    clickable: bool = False,
    wide: bool = False,
    hint: str | None = None,
    key: html.Ul | None = None,
) -> html.Section:
    """A titled chart with a text summary (its text alternative) and a CSV link.
    The callback fills the title (it says what is counted, and when), the figure,
    and the notes below it: the summary and the download address (``card_values``). ``hint``
    says what a click on it does; ``key`` names its colours (``colour_key``)."""
    return html.Section(
        className="card wide" if wide else "card",
        **{"aria-labelledby": ids.part(name, "title")},
        children=[
            html.H2(heading, id=ids.part(name, "title")),
            html.P(className="hint", children=hint or "Select a bar to filter every view by it.")
            if clickable or hint
            else None,
            key,
            # no dcc.Loading around it: Dash marks the graph itself while its figure is on the way
            # (data-dash-is-loading), and the style sheet shows a spinner from that after 400 ms;
            # a dcc.Loading re-reads the whole store's change log on every update Dash makes.
            # Its height is the figure's (dcc.Graph's own 100% would be the whole card's).
            dcc.Graph(
                id=name,
                config=GRAPH_CONFIG,
                figure={"data": [], "layout": {"height": 240}},
                className="graph",
                style={"height": "auto"},
            ),
            html.P(id=ids.part(name, "summary"), className="summary"),
            html.A("Download these figures (CSV)", id=ids.part(name, "download"), href="", className="download"),
        ],
    )


def card_outputs(names: Sequence[str]) -> list[Output]:
    """The title, summary and download address of each chart card, in that order: text and an
    address, never components (see ``tile_slots``)."""
    return [
        Output(ids.part(name, role), prop)
        for name in names
        for role, prop in (("title", "children"), ("summary", "children"), ("download", "href"))
    ]


def card_values(parts: dict[str, tuple[str, str, str]], names: Sequence[str]) -> list[str]:
    """What ``card_outputs(names)`` takes, from each card's (title, summary, download address)."""
    return [value for name in names for value in parts[name]]


TABLE_CELL_BUDGET = 1200  # all 150-odd trusts by age group fit; a hospital x CDOP matrix shows ~85 rows
MIN_TABLE_ROWS = 50


def table(
    frame: pl.DataFrame,
    columns: Sequence[tuple[str, str]],
    caption: str,
    *,
    numeric: Sequence[str] = ("deaths",),
    limit: int = 200,
) -> html.Div:
    """An accessible HTML table of a frame: (column, header) pairs, a caption,
    numbers right-aligned; long tables are cut with a note (the CSV has all)."""
    # every cell is a component the server builds and the browser renders: a
    # wide table shows fewer rows (enough to read; the CSV has them all)
    limit = min(limit, max(MIN_TABLE_ROWS, TABLE_CELL_BUDGET // max(1, len(columns))))
    shown = frame.head(limit)
    header = html.Tr(
        [html.Th(title, scope="col", className="num" if col in numeric else None) for col, title in columns]
    )
    names = [col for col, _ in columns]
    classes = ["num" if col in numeric else None for col in names]
    body = [
        _element(
            "Tr",
            [
                _element("Th", _cell(values[0]), className=classes[0], scope="row"),
                *(
                    _element("Td", _cell(value), className=cls)
                    for value, cls in zip(values[1:], classes[1:], strict=True)
                ),
            ],
        )
        for values in shown.select(names).iter_rows()
    ]
    note = (
        html.P(f"Showing the first {limit:,} of {frame.height:,} rows; the CSV has them all.", className="hint")
        if frame.height > limit
        else None
    )
    return html.Div(
        className="table-wrap",
        tabIndex="0",
        role="region",
        **{"aria-label": f"Table: {caption}"},
        children=[
            html.Table([html.Caption(caption), html.Thead(header), html.Tbody(body)], className="data-table"),
            note,
        ],
    )


def _element(tag: str, children: object, **props: object) -> dict[str, object]:
    """An HTML element in the form Dash sends to the browser. A table's rows
    are built this way: hundreds of cells as component objects cost more to
    make and serialise than the query behind the page."""
    props = {name: value for name, value in props.items() if value is not None}
    return {"type": tag, "namespace": "dash_html_components", "props": {"children": children, **props}}


def _cell(value: object) -> str:
    if isinstance(value, int):
        return f"{value:,}"
    return "" if value is None else str(value)


class Tile(NamedTuple):
    """A headline figure: what it counts, the number, a note under it, and its tone."""

    label: str
    value: str
    note: str | None = None
    tone: str = ""  # "", "highlight" or "warning"


def tile(label: str, value: str, note: str | None = None, *, tone: str = "") -> Tile:
    return Tile(label, value, note, tone)


TILE_PARTS = (("box", "className"), ("label", "children"), ("value", "children"), ("note", "children"))


def tile_slots(name: str, count: int) -> list[html.Div]:
    """``count`` headline tiles for a callback to fill (``tile_outputs``). A callback changes their
    text, and never sends them as new components: each component Dash's renderer receives is new
    to it, and each new one costs an update of its store that visits every component on the page
    (about a millisecond on the overview: the six tiles were 24 of them, on every filter change)."""
    return [
        html.Div(
            id=ids.part(f"{name}-{number}", "box"),
            className="tile",
            children=[
                html.P(id=ids.part(f"{name}-{number}", "label"), className="tile-label"),
                html.P(id=ids.part(f"{name}-{number}", "value"), className="tile-value"),
                html.P(id=ids.part(f"{name}-{number}", "note"), className="tile-note"),
            ],
        )
        for number in range(count)
    ]


def tile_outputs(name: str, count: int) -> list[Output]:
    return [Output(ids.part(f"{name}-{number}", part), prop) for number in range(count) for part, prop in TILE_PARTS]


def tile_values(tiles: Sequence[Tile], count: int) -> list[str]:
    """What ``tile_outputs(name, count)`` takes: each tile's class, label, value and note; slots
    beyond the tiles given are hidden (class ``tile unused``)."""
    if len(tiles) > count:
        raise ValueError(f"{len(tiles)} tiles for {count} slots")
    values: list[str] = []
    for shown in tiles:
        values += [f"tile {shown.tone}".strip(), shown.label, shown.value, shown.note or ""]
    for _ in range(count - len(tiles)):
        values += ["tile unused", "", "", ""]
    return values


def notice(message: str, tone: str = "info") -> html.Div:
    return html.Div(message, className=f"notice {tone}", role="status")

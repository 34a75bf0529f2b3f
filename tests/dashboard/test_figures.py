"""Figure builders: pure functions whose output is a valid plotly figure."""

from __future__ import annotations

import plotly.graph_objects as go
import polars as pl
import pytest

from dashboard.ui import figures


def valid(figure: dict) -> go.Figure:
    """Plotly's own schema validation: raises on any property plotly does not know."""
    return go.Figure(figure)


BY_TRUST = pl.DataFrame(
    {
        "trust_name": [f"Trust {i:02d}" for i in range(40)],
        "trust_code": [f"T{i:02d}" for i in range(40)],
        "deaths": list(range(40)),
    }
)


def test_horizontal_bars_show_the_largest_at_the_top_and_carry_codes() -> None:
    figure = valid(figures.horizontal_bars(BY_TRUST, "trust_name", "trust_code"))
    bar = figure.data[0]
    assert len(bar.y) == figures.BAR_LIMIT  # the 30 largest
    assert bar.y[-1] == "Trust 39" and bar.x[-1] == 39  # plotly draws the last category at the top
    assert bar.customdata[-1] == "T39"


def test_stacked_bars_keep_every_stack_in_its_own_colour() -> None:
    frame = pl.DataFrame(
        {
            "trust_name": ["A", "A", "B"],
            "trust_code": ["A1", "A1", "B1"],
            "place": ["nicu", "picu", "nicu"],
            "place_label": ["NICU", "PICU", "NICU"],
            "deaths": [3, 2, 4],
        }
    )
    figure = valid(
        figures.stacked_horizontal(frame, "trust_name", "trust_code", "place", "place_label", figures.PLACE_COLOURS)
    )
    assert [t.name for t in figure.data] == ["NICU", "PICU"]
    assert figure.data[1].marker.color == figures.PLACE_COLOURS["picu"]
    assert list(figure.data[1].x) == [0, 2] or list(figure.data[1].x) == [2, 0]
    assert figure.layout.barmode == "stack"


def test_stacked_bars_without_a_legend_are_one_trace_each_bar_starting_where_its_row_left_off() -> None:
    frame = pl.DataFrame(
        {
            "trust_name": ["A", "A", "B", "B"],
            "trust_code": ["A1", "A1", "B1", "B1"],
            "place": ["nicu", "picu", "nicu", "ed"],
            "place_label": ["NICU", "PICU", "NICU", "ED"],
            "deaths": [3, 2, 4, 0],
        }
    )
    figure = valid(
        figures.stacked_horizontal(
            frame, "trust_name", "trust_code", "place", "place_label", figures.PLACE_COLOURS, legend=False
        )
    )
    (bars,) = figure.data
    segments = list(zip(bars.y, bars.base, bars.x, [tuple(c) for c in bars.customdata], bars.marker.color, strict=True))
    # B (4) below A (5); a stack's bars in the order of the stacks; no bar for a count of 0
    assert segments == [
        ("B", 0, 4, ("B1", "NICU"), figures.PLACE_COLOURS["nicu"]),
        ("A", 0, 3, ("A1", "NICU"), figures.PLACE_COLOURS["nicu"]),
        ("A", 3, 2, ("A1", "PICU"), figures.PLACE_COLOURS["picu"]),
    ]
    assert figure.layout.barmode == "overlay" and list(figure.layout.yaxis.categoryarray) == ["B", "A"]


def test_trend_lines_differ_by_dash_as_well_as_colour() -> None:
    frame = pl.DataFrame(
        {
            "period": ["Q1", "Q1", "Q2", "Q2"],
            "age_group": ["0-27d", "1-4y"] * 2,
            "age_group_label": ["0-27 days", "1-4 years"] * 2,
            "deaths": [1, 2, 3, 4],
        }
    )
    figure = valid(figures.trend(frame, "age_group", "age_group_label"))
    assert {t.line.dash for t in figure.data} == {"solid", "dash"}
    assert valid(figures.trend(frame.filter(pl.col("age_group") == "1-4y"), bars=True)).data[0].type == "bar"


def test_heatmap_writes_the_count_in_each_cell() -> None:
    frame = pl.DataFrame({"site": ["X", "X", "Y"], "cdop": ["P", "Q", "P"], "deaths": [5, 1, 2]})
    figure = valid(figures.heatmap(frame, "site", "cdop"))
    assert figure.data[0].z == ((2, 0), (5, 1)) or [list(r) for r in figure.data[0].z] == [[2, 0], [5, 1]]


@pytest.mark.parametrize(
    "builder",
    [
        lambda f: figures.horizontal_bars(f, "trust_name", "trust_code"),
        lambda f: figures.column_bars(f, "trust_name", "trust_code"),
        lambda f: figures.heatmap(f, "trust_name", "trust_code"),
    ],
)
def test_no_deaths_gives_a_message_not_an_empty_chart(builder) -> None:
    figure = valid(builder(BY_TRUST.head(0)))
    assert figure.layout.annotations[0].text.startswith("No deaths")


def test_the_overview_names_its_trust_charts_colours_in_the_page_not_in_the_figure() -> None:
    from dashboard.ui import ids
    from dashboard.ui.components import colour_key
    from dashboard.views import overview
    from queries import codes

    key = colour_key(figures.PLACE_COLOURS, codes.PLACES_IN_HOSPITAL)
    assert [item.children[1] for item in key.children] == [codes.PLACES_IN_HOSPITAL[c] for c in figures.PLACE_COLOURS]
    assert [item.children[0].style["backgroundColor"] for item in key.children] == list(figures.PLACE_COLOURS.values())
    cards = [card for card in overview.layout().children[-1].children if card.to_plotly_json()["type"] == "Section"]
    (trust_card,) = [card for card in cards if any(getattr(c, "id", None) == ids.OVERVIEW_TRUST for c in card.children)]
    assert any(getattr(c, "className", None) == "colour-key" for c in trust_card.children)
    frame = pl.DataFrame(
        {
            "trust_name": ["A", "A"],
            "trust_code": ["X", "X"],
            "place": ["nicu", "ed"],
            "place_label": ["N", "E"],
            "deaths": [3, 2],
        }
    )
    figure = figures.stacked_horizontal(
        frame, "trust_name", "trust_code", "place", "place_label", figures.PLACE_COLOURS, legend=False
    )
    assert figure["layout"]["showlegend"] is False

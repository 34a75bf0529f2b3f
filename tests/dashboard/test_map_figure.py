"""The map's figure builder: plotly's own schema accepts it, it draws with scatter traces alone (the
app's partial plotly.js bundle has no map traces), and its classes and lines follow the counts."""

from __future__ import annotations

import plotly.graph_objects as go
import polars as pl
import pytest

from dashboard.ui import map_figure as mf
from queries.geography import geography
from tests.plotly_bundle import bundle_trace_types, trace_types

FOOTPRINT = ("E06000016", "E06000017", "E10000018")  # Leicester, Rutland, Leicestershire


def hospital(code: str, deaths: int, unit: str = "nicu") -> mf.Hospital:
    return mf.Hospital(
        code, f"Hospital {code}", "A trust", unit, 460.0, 305.0, deaths, deaths // 2, (("NICU", deaths),)
    )


def data(**changes: object) -> mf.MapData:
    base = {
        "footprint": FOOTPRINT,
        "outline": geography().outline(FOOTPRINT),
        "areas": {"E06000016": 40, "E10000018": 25, "E08000025": 3},  # Birmingham: children from elsewhere
        "names": {"E06000016": "Leicester", "E10000018": "Leicestershire", "E08000025": "Birmingham"},
        "hospitals": (hospital("RWE01", 60, "picu"), hospital("RWE02", 8), hospital("RWE03", 0, "none")),
        "flows": (("E06000016", "RWE01", 30), ("E10000018", "RWE01", 20), ("E08000025", "RWE02", 3)),
        "england": False,
    }
    return mf.MapData(**{**base, **changes})  # type: ignore[arg-type]


def test_plotly_accepts_the_map_and_the_bundle_can_draw_it() -> None:
    figure = mf.map_figure(geography(), data())
    go.Figure(figure)  # raises on any property plotly does not know
    assert set(trace_types(figure)) == {"scatter"} <= bundle_trace_types()
    assert figure["layout"]["yaxis"]["scaleanchor"] == "x"  # kilometres both ways: shapes are not stretched
    assert not figure["layout"]["xaxis"]["visible"] and not figure["layout"]["yaxis"]["visible"]


def test_areas_carry_their_code_and_count_and_hospitals_their_site() -> None:
    figure = mf.map_figure(geography(), data())
    (areas,) = [t for t in figure["data"] if t.get("name") == "Areas of residence"]
    assert sorted(areas["customdata"]) == ["E06000016", "E08000025", "E10000018"]  # Rutland: no deaths, no marker
    assert any("Birmingham" in text and "outside this footprint" in text for text in areas["text"])
    hospitals = [t for t in figure["data"] if str(t.get("name", "")).startswith("Hospital")]
    assert sorted(code for t in hospitals for code in t["customdata"]) == ["RWE01", "RWE02", "RWE03"]
    assert {t["marker"]["symbol"] for t in hospitals} == {"star", "diamond", "circle"}
    # where a hospital and an area's hidden marker overlap, the hospital takes the click (smaller wins)
    assert max(size for t in hospitals for size in t["marker"]["size"]) < areas["marker"]["size"]
    # the footprint area where no child in view lived is still shaded
    assert [t for t in figure["data"] if t.get("name") == "Footprint area, no deaths in view"]


def test_lines_are_banded_by_deaths_and_only_those_given_are_drawn() -> None:
    figure = mf.map_figure(geography(), data())
    flows = {t["name"]: t for t in figure["data"] if t.get("legendgroup") == "flows"}
    assert sum(t["x"].count(None) for t in flows.values()) == 3
    widths = [t["line"]["width"] for t in flows.values()]
    assert widths == sorted(widths) and len(widths) == 3  # 3 deaths, 20 and 30: three bands
    none = mf.map_figure(geography(), data(flows=()))
    assert not [t for t in none["data"] if t.get("legendgroup") == "flows"]


@pytest.mark.parametrize(
    ("counts", "expected"),
    [
        ([], []),
        ([7], [(1, 7)]),
        ([1, 1, 1], [(1, 1)]),
        # quintiles 3, 5, 13 and 34, each to the nearest round number: 3, 5, 15 and 30
        ([1, 2, 3, 4, 5, 8, 13, 21, 34, 55], [(1, 3), (4, 5), (6, 15), (16, 30), (31, 55)]),
    ],
)
def test_count_classes_break_at_round_numbers_and_cover_every_count(counts: list[int], expected: list) -> None:
    classes = mf.count_classes(counts)
    assert classes == expected
    for count in counts:
        assert sum(low <= count <= high for low, high in classes) == 1


def test_hospitals_from_the_frames_count_places_and_non_residents() -> None:
    sites = pl.DataFrame(
        {
            "site_code": ["S1", "S2"],
            "site_name": ["One", "Two"],
            "trust_name": ["T", "T"],
            "latitude": [52.6, None],
            "longitude": [-1.1, None],
            "highest_unit": ["picu", "none"],
        }
    )
    places = pl.DataFrame({"site_code": ["S1", "S1"], "place_label": ["PICU", "NICU"], "deaths": [3, 5]})
    residence = pl.DataFrame(
        {"site_code": ["S1", "S1", "S1"], "residence_group": ["footprint", "england", "not_known"], "deaths": [4, 3, 1]}
    )
    points = mf.site_points(sites)
    assert set(points) == {"S1"}  # no position, not drawn
    (one,) = mf.hospitals_from(sites, points, places, residence)
    assert (one.deaths, one.non_residents, one.places) == (8, 3, (("NICU", 5), ("PICU", 3)))

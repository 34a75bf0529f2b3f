"""The map's boundaries: the projection against the Ordnance Survey's worked example, the preparation
script on a small made-up map, and the prepared file the app reads."""

from __future__ import annotations

import csv
import json
import math
from pathlib import Path

import pytest

from queries.geography import TOPOLOGY, Geography, geography, grid_km, osgb36_grid, wgs84_to_osgb36
from scripts import prepare_map
from settings import REFERENCE_DIR


def dms(degrees: int, minutes: int, seconds: float) -> float:
    return math.radians(degrees + minutes / 60 + seconds / 3600)


def test_the_grid_projection_matches_the_ordnance_surveys_worked_example() -> None:
    # OS, "A guide to coordinate systems in Great Britain", annex C: an OSGB36 point to the National Grid
    easting, northing = osgb36_grid(dms(52, 39, 27.2531), dms(1, 43, 4.5177))
    assert easting == pytest.approx(651_409.903, abs=0.001)
    assert northing == pytest.approx(313_177.270, abs=0.001)


def test_the_datum_shift_puts_greenwich_on_the_national_grids_meridian() -> None:
    # the Airy transit circle (WGS84) lies on OSGB36's prime meridian to within the Helmert shift's few metres
    lat, lon = wgs84_to_osgb36(51.477811, -0.001475)
    assert abs(math.degrees(lon) * 3600) < 1.0  # under an arc second, about 20 m
    assert math.degrees(lat) == pytest.approx(51.4773, abs=0.0002)
    assert grid_km(51.477811, -0.001475) == pytest.approx((538.9, 177.3), abs=0.15)


# Two squares sharing an edge, one of them with an enclave (a third area) inside it; longitudes and
# latitudes near the grid's origin so that the shapes stay square enough to reason about.
SQUARE_A = [(-2.0, 52.0), (-2.0, 52.1), (-1.9, 52.1), (-1.9, 52.0), (-2.0, 52.0)]
SQUARE_B = [(-1.9, 52.0), (-1.9, 52.1), (-1.8, 52.1), (-1.8, 52.0), (-1.9, 52.0)]
HOLE = [(-1.97, 52.03), (-1.93, 52.03), (-1.93, 52.07), (-1.97, 52.07), (-1.97, 52.03)]
ISLAND = [(-1.75, 52.0), (-1.75, 52.001), (-1.749, 52.001), (-1.749, 52.0), (-1.75, 52.0)]


def feature(code: str, *polygons: list[list[tuple[float, float]]]) -> dict:
    geometry = {"type": "MultiPolygon", "coordinates": list(polygons)}
    return {"type": "Feature", "properties": {"la_code": code, "la_name": f"Area {code}"}, "geometry": geometry}


@pytest.fixture
def small_map(tmp_path: Path) -> Geography:
    source = tmp_path / "areas.geojson"
    features = [feature("A", [SQUARE_A, HOLE]), feature("B", [SQUARE_B], [ISLAND]), feature("C", [HOLE[::-1]])]
    source.write_text(json.dumps({"type": "FeatureCollection", "features": features}))
    out = tmp_path / "topology.json"
    assert prepare_map.main([str(source), "--out", str(out), "--tolerance", "50", "--min-island", "0.5"]) == 0
    return Geography(json.loads(out.read_text()))


def test_neighbours_share_their_edges_as_one_arc(small_map: Geography) -> None:
    shared = [users for users in small_map.users if len(users) == 2]
    assert sorted(map(sorted, shared)) == [["A", "B"], ["A", "C"]]
    assert all(len(users) in (1, 2) for users in small_map.users)
    # the enclave is walked one way by its county's hole and the other way by itself
    (hole_ring,) = [ring for ring in small_map.areas["A"].rings if len(ring) == 1]
    assert small_map.areas["C"].rings == ((~hole_ring[0],),)


def test_an_outline_is_the_arcs_one_member_alone_uses(small_map: Geography) -> None:
    both = small_map.outline(["A", "B"])
    a_alone = small_map.outline(["A"])
    # A and B together: the outer edges and the enclave's edge, not the edge they share
    assert both[0].count(None) == sum(len(u) == 1 for u in small_map.users) + 1
    assert a_alone[0].count(None) == len({abs(i) if i >= 0 else ~i for r in small_map.areas["A"].rings for i in r})
    # several sets at once: every arc between two of them or on an edge; none inside one set
    assert small_map.borders({"A": "X", "B": "Y", "C": "Z"})[0].count(None) == len(small_map.arcs)
    assert small_map.borders({"A": "X", "B": "X", "C": "X"}) == small_map.coast()


def test_small_islands_are_dropped_but_an_area_keeps_its_largest_ring(small_map: Geography) -> None:
    assert len(small_map.areas["B"].rings) == 1  # its 0.01 km² island is gone
    assert len(small_map.areas["C"].rings) == 1  # the enclave is small, but it is all C has


def test_each_area_has_a_marker_point_inside_it(small_map: Geography) -> None:
    for code, area in small_map.areas.items():
        assert inside(area.point, small_map.shapes([code])), code
    assert not inside(small_map.areas["C"].point, small_map.shapes(["A"]))  # A's point is not in its hole


def test_simplifying_keeps_the_ends_and_drops_points_within_the_tolerance() -> None:
    wiggly = [(0.0, 0.0), (1.0, 0.1), (2.0, -0.1), (3.0, 5.0), (4.0, 0.0)]
    assert prepare_map.simplify(wiggly, 1.0) == [(0.0, 0.0), (2.0, -0.1), (3.0, 5.0), (4.0, 0.0)]
    assert prepare_map.simplify(wiggly, 10.0) == [(0.0, 0.0), (4.0, 0.0)]


def test_a_source_that_cannot_be_read_is_one_line(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    (tmp_path / "bad.geojson").write_text("{not json")
    assert prepare_map.main([str(tmp_path / "bad.geojson"), "--out", str(tmp_path / "x.json")]) == 2
    assert len(capsys.readouterr().err.strip().splitlines()) == 1


def inside(point: tuple[float, float], shape: tuple[list, list]) -> bool:
    """Even-odd test against rings separated by None."""
    x, y = point
    crossings = 0
    xs, ys = shape
    for i in range(len(xs) - 1):
        if None in (xs[i], xs[i + 1]):
            continue
        (x0, y0), (x1, y1) = (xs[i], ys[i]), (xs[i + 1], ys[i + 1])
        if (y0 <= y) != (y1 <= y) and x < x0 + (y - y0) * (x1 - x0) / (y1 - y0):
            crossings += 1
    return crossings % 2 == 1


def test_the_prepared_file_holds_every_local_authority_the_app_knows() -> None:
    with (REFERENCE_DIR / "local_authorities.csv").open(encoding="utf-8") as handle:
        codes = {row["la_code"] for row in csv.DictReader(handle)}
    geo = geography()
    assert set(geo.areas) == codes
    assert all(len(users) in (1, 2) for users in geo.users)
    for code, area in geo.areas.items():
        assert inside(area.point, geo.shapes([code])), code
        left, bottom, right, top = geo.bounds(code)
        assert 80 <= left < right <= 660 and 0 <= bottom < top <= 660, code  # National Grid km, in England
    # the whole of England's outline is its coast and borders; enclaves add none
    assert geo.outline(codes) == geo.coast()
    assert json.loads(TOPOLOGY.read_text())["attribution"].startswith("Boundaries: Office for National Statistics")
    assert TOPOLOGY.stat().st_size < 200_000  # small enough to read at start-up and to send

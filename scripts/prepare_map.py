"""Prepare the map's boundaries once, offline: ``data/reference/map/la_topology.json``.

    .venv/bin/python scripts/prepare_map.py ../shared/reference/geo/utla_boundaries.geojson

From the upper-tier local authority polygons (WGS84, snapped to a grid so that
neighbours' shared edges are identical), with the standard library alone:

1. cut every ring into arcs at the points where its neighbour changes, so that
   an edge two areas share is one arc used by both (the TopoJSON idea);
2. project each point to the British National Grid (``queries.geography``);
3. simplify each arc once (Douglas-Peucker, ends kept), so neighbours stay
   joined without gaps or slivers, and round to 100 m;
4. drop islands under ``--min-island`` km² (an area keeps its largest ring), and
   find a point inside each area for its marker.

The app reads the result at run time and never the source (``../shared``).
"""

from __future__ import annotations

import argparse
import itertools
import json
import math
import sys
from collections.abc import Sequence
from pathlib import Path

PROJECT = Path(__file__).resolve().parents[1]
if str(PROJECT) not in sys.path:  # run as a script from anywhere
    sys.path.insert(0, str(PROJECT))

from queries.geography import ATTRIBUTION, TOPOLOGY, osgb36_grid, wgs84_to_osgb36  # noqa: E402

Point = tuple[float, float]
DEFAULT_TOLERANCE_M = 250.0  # about the source's own generalisation (200 m): hardly visible, a third of the points
DEFAULT_MIN_ISLAND_KM2 = 1.0


def read_areas(path: Path) -> dict[str, tuple[str, list[list[Point]]]]:
    """code -> (name, rings as open lists of (lon, lat)) from a GeoJSON of Polygons and MultiPolygons."""
    data = json.loads(path.read_text(encoding="utf-8"))
    areas: dict[str, tuple[str, list[list[Point]]]] = {}
    for feature in data["features"]:
        props, geometry = feature["properties"], feature["geometry"]
        polygons = geometry["coordinates"] if geometry["type"] == "MultiPolygon" else [geometry["coordinates"]]
        rings = []
        for polygon in polygons:
            for ring in polygon:
                points = [(float(x), float(y)) for x, y in ring]
                if points[0] == points[-1]:
                    points.pop()
                rings.append(points)
        areas[str(props["la_code"])] = (str(props["la_name"]), rings)
    return areas


def cut_into_arcs(
    areas: dict[str, tuple[str, list[list[Point]]]],
) -> tuple[list[list[Point]], dict[str, list[list[int]]]]:
    """Arcs (point lists) and each area's rings as arc indexes (~i: arc i backwards). A ring is cut
    wherever the set of areas using its edges changes; a ring no one else touches, or shares whole
    (an enclave), is one closed arc, started at its smallest point so that both users agree."""
    users: dict[tuple[Point, Point], set[str]] = {}
    for code, (_, rings) in areas.items():
        for ring in rings:
            for a, b in zip(ring, ring[1:] + ring[:1], strict=True):
                users.setdefault((min(a, b), max(a, b)), set()).add(code)

    def edge_users(a: Point, b: Point) -> frozenset[str]:
        return frozenset(users[(min(a, b), max(a, b))])

    arcs: list[list[Point]] = []
    index: dict[tuple[Point, ...], int] = {}

    def arc_id(points: list[Point]) -> int:
        key = tuple(points)
        if key in index:
            return index[key]
        if key[::-1] in index:
            return ~index[key[::-1]]
        index[key] = len(arcs)
        arcs.append(points)
        return index[key]

    out: dict[str, list[list[int]]] = {}
    for code, (_, rings) in areas.items():
        out[code] = []
        for ring in rings:
            n = len(ring)
            cuts = [i for i in range(n) if edge_users(ring[i - 1], ring[i]) != edge_users(ring[i], ring[(i + 1) % n])]
            if not cuts:
                start = min(range(n), key=ring.__getitem__)
                turned = ring[start:] + ring[:start]
                backwards = turned[-1] < turned[1]  # stored the same way round from both sides
                if backwards:
                    turned = [turned[0], *turned[:0:-1]]
                found = arc_id([*turned, turned[0]])
                out[code].append([~found if backwards else found])
                continue
            pieces = []
            for k, begin in enumerate(cuts):
                end = cuts[(k + 1) % len(cuts)]
                span = (end - begin) % n or n
                pieces.append(arc_id([ring[(begin + j) % n] for j in range(span + 1)]))
            out[code].append(pieces)
    return arcs, out


def project(point: Point) -> Point:
    easting, northing = osgb36_grid(*wgs84_to_osgb36(point[1], point[0]))
    return easting, northing


def _distance_to_segment(p: Point, a: Point, b: Point) -> float:
    dx, dy = b[0] - a[0], b[1] - a[1]
    if dx == 0 and dy == 0:
        return math.hypot(p[0] - a[0], p[1] - a[1])
    t = max(0.0, min(1.0, ((p[0] - a[0]) * dx + (p[1] - a[1]) * dy) / (dx * dx + dy * dy)))
    return math.hypot(p[0] - a[0] - t * dx, p[1] - a[1] - t * dy)


def simplify(points: Sequence[Point], tolerance: float) -> list[Point]:
    """Douglas-Peucker, ends kept; a closed arc (first point = last) is split at its farthest point."""
    if len(points) < 3:
        return list(points)
    if points[0] == points[-1]:
        far = max(range(len(points)), key=lambda i: math.dist(points[0], points[i]))
        return simplify(points[: far + 1], tolerance)[:-1] + simplify(points[far:], tolerance)
    keep = [False] * len(points)
    keep[0] = keep[-1] = True
    stack = [(0, len(points) - 1)]
    while stack:
        first, last = stack.pop()
        worst, at = 0.0, -1
        for i in range(first + 1, last):
            d = _distance_to_segment(points[i], points[first], points[last])
            if d > worst:
                worst, at = d, i
        if worst > tolerance:
            keep[at] = True
            stack += [(first, at), (at, last)]
    return [p for p, kept in zip(points, keep, strict=True) if kept]


def rounded_km(points: Sequence[Point]) -> list[Point]:
    """Metres to kilometres at 100 m, without repeated points."""
    out: list[Point] = []
    for x, y in points:
        p = (round(x / 1000, 1), round(y / 1000, 1))
        if not out or out[-1] != p:
            out.append(p)
    return out


def walk(ring: Sequence[int], arcs: Sequence[Sequence[Point]]) -> list[Point]:
    points: list[Point] = []
    for i in ring:
        arc = arcs[i] if i >= 0 else arcs[~i][::-1]
        points.extend(arc[1:] if points else arc)
    return points


def area_km2(points: Sequence[Point]) -> float:
    """Signed (shoelace) area of a closed ring."""
    return sum(a[0] * b[1] - b[0] * a[1] for a, b in itertools.pairwise(points)) / 2


def inside_point(rings: Sequence[Sequence[Point]]) -> Point:
    """A point well inside the rings (even-odd): the middle of the widest horizontal run inside,
    on a few lines across the largest ring."""
    largest = max(rings, key=lambda r: abs(area_km2(r)))
    low, high = min(p[1] for p in largest), max(p[1] for p in largest)
    best: tuple[float, Point] = (-1.0, largest[0])
    for share in (0.5, 0.35, 0.65, 0.2, 0.8):
        y = low + share * (high - low) + 1e-6  # never exactly on a vertex
        crossings = sorted(
            a[0] + (y - a[1]) * (b[0] - a[0]) / (b[1] - a[1])
            for ring in rings
            for a, b in itertools.pairwise(ring)
            if (a[1] <= y) != (b[1] <= y)
        )
        for left, right in zip(crossings[0::2], crossings[1::2], strict=False):
            if right - left > best[0]:
                best = (right - left, (round((left + right) / 2, 1), round(y, 1)))
    return best[1]


def prepare(
    areas: dict[str, tuple[str, list[list[Point]]]], tolerance_m: float, min_island_km2: float
) -> dict[str, object]:
    raw_arcs, rings = cut_into_arcs(areas)
    arcs = [rounded_km(simplify([project(p) for p in arc], tolerance_m)) for arc in raw_arcs]
    kept: dict[str, list[list[int]]] = {}
    for code, area_rings in rings.items():
        sizes = [abs(area_km2(walk(r, arcs))) for r in area_rings]
        biggest = max(range(len(sizes)), key=sizes.__getitem__)
        kept[code] = [r for i, r in enumerate(area_rings) if i == biggest or sizes[i] >= min_island_km2]
    used = sorted({i if i >= 0 else ~i for rs in kept.values() for r in rs for i in r})
    renumber = {old: new for new, old in enumerate(used)}
    out_areas = {}
    for code, area_rings in kept.items():
        renumbered = [[renumber[i] if i >= 0 else ~renumber[~i] for i in r] for r in area_rings]
        out_areas[code] = {
            "name": areas[code][0],
            "rings": renumbered,
            "point": list(inside_point([walk(r, arcs) for r in area_rings])),
        }
    return {
        "about": "England's upper-tier local authorities, prepared by scripts/prepare_map.py: British National "
        "Grid kilometres (to 100 m), shared arcs simplified once (Douglas-Peucker)",
        "attribution": ATTRIBUTION,
        "tolerance_m": tolerance_m,
        "min_island_km2": min_island_km2,
        "arcs": [[v for p in arcs[i] for v in p] for i in used],
        "areas": dict(sorted(out_areas.items())),
    }


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("source", type=Path, help="utla_boundaries.geojson (la_code and la_name in properties)")
    parser.add_argument("--out", type=Path, default=TOPOLOGY)
    parser.add_argument("--tolerance", type=float, default=DEFAULT_TOLERANCE_M, help="metres")
    parser.add_argument("--min-island", type=float, default=DEFAULT_MIN_ISLAND_KM2, help="km²")
    args = parser.parse_args(argv)
    try:
        areas = read_areas(args.source)
    except (OSError, ValueError, KeyError, TypeError) as error:
        print(f"cannot read {args.source}: {error}", file=sys.stderr)
        return 2
    prepared = prepare(areas, args.tolerance, args.min_island)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(prepared, separators=(",", ":")) + "\n", encoding="utf-8")
    points = sum(len(a) for a in prepared["arcs"]) // 2  # type: ignore[arg-type]
    print(f"{args.out}: {len(prepared['areas'])} areas, {len(prepared['arcs'])} arcs, {points} points")  # type: ignore[arg-type]
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

"""England's upper-tier local authorities as a small topology, for drawing maps offline.

The boundaries are prepared once, offline (``scripts/prepare_map.py``), into
``data/reference/map/la_topology.json``: projected to the British National Grid,
cut into arcs that neighbouring areas share, each arc simplified once, in
kilometres. Because neighbours share arcs, the outline of any set of areas (a
CDOP's footprint under the mapping in force) is just the arcs used by exactly
one member of the set: no polygon union at run time, and no geometry library.

Nothing here knows who is looking: boundaries are public geography. Which
areas a user may see counted is decided by the scoped queries.
"""

from __future__ import annotations

import functools
import json
import math
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

from settings import REFERENCE_DIR

TOPOLOGY = REFERENCE_DIR / "map" / "la_topology.json"
ATTRIBUTION = (
    "Boundaries: Office for National Statistics licensed under the Open Government Licence v.3.0. "
    "Contains OS data © Crown copyright and database right 2024."
)

Line = tuple[list[float | None], list[float | None]]  # x and y, pieces separated by None, as plotly draws them

# ---------------------------------------------------------------- projection
# WGS84 latitude/longitude to British National Grid eastings/northings: a Helmert shift from
# WGS84 to OSGB36 (good to about 5 m, far below the boundaries' 200 m generalisation), then
# the National Grid's transverse Mercator on the Airy 1830 ellipsoid (OS, "A guide to
# coordinate systems in Great Britain", annexes B and C).
_WGS84 = (6_378_137.000, 6_356_752.3141)
_AIRY = (6_377_563.396, 6_356_256.909)
_HELMERT = (-446.448, 125.157, -542.060, 20.4894e-6, -0.1502, -0.2470, -0.8421)  # tx ty tz (m), s, rx ry rz (")
_F0, _LAT0, _LON0, _E0, _N0 = 0.9996012717, math.radians(49), math.radians(-2), 400_000.0, -100_000.0


def _to_cartesian(lat: float, lon: float, axes: tuple[float, float]) -> tuple[float, float, float]:
    a, b = axes
    e2 = 1 - b * b / (a * a)
    nu = a / math.sqrt(1 - e2 * math.sin(lat) ** 2)
    return (nu * math.cos(lat) * math.cos(lon), nu * math.cos(lat) * math.sin(lon), (1 - e2) * nu * math.sin(lat))


def _to_geodetic(x: float, y: float, z: float, axes: tuple[float, float]) -> tuple[float, float]:
    a, b = axes
    e2 = 1 - b * b / (a * a)
    p = math.hypot(x, y)
    lat = math.atan2(z, p * (1 - e2))
    for _ in range(10):  # converges to far under a millimetre in a few steps
        nu = a / math.sqrt(1 - e2 * math.sin(lat) ** 2)
        lat = math.atan2(z + e2 * nu * math.sin(lat), p)
    return lat, math.atan2(y, x)


def wgs84_to_osgb36(lat_deg: float, lon_deg: float) -> tuple[float, float]:
    """Latitude and longitude (radians) on OSGB36, from WGS84 degrees."""
    x, y, z = _to_cartesian(math.radians(lat_deg), math.radians(lon_deg), _WGS84)
    tx, ty, tz, s, *rotations = _HELMERT
    rx, ry, rz = (math.radians(r / 3600) for r in rotations)
    shifted = (
        tx + (1 + s) * x - rz * y + ry * z,
        ty + rz * x + (1 + s) * y - rx * z,
        tz - ry * x + rx * y + (1 + s) * z,
    )
    return _to_geodetic(*shifted, _AIRY)


def osgb36_grid(lat: float, lon: float) -> tuple[float, float]:
    """National Grid easting and northing (metres) of an OSGB36 latitude and longitude (radians)."""
    a, b = _AIRY
    e2 = 1 - b * b / (a * a)
    n = (a - b) / (a + b)
    sin, cos, tan = math.sin(lat), math.cos(lat), math.tan(lat)
    nu = a * _F0 / math.sqrt(1 - e2 * sin**2)
    rho = a * _F0 * (1 - e2) / (1 - e2 * sin**2) ** 1.5
    eta2 = nu / rho - 1
    dlat, slat = lat - _LAT0, lat + _LAT0
    m = (
        b
        * _F0
        * (
            (1 + n + 5 / 4 * n**2 + 5 / 4 * n**3) * dlat
            - (3 * n + 3 * n**2 + 21 / 8 * n**3) * math.sin(dlat) * math.cos(slat)
            + (15 / 8 * n**2 + 15 / 8 * n**3) * math.sin(2 * dlat) * math.cos(2 * slat)
            - 35 / 24 * n**3 * math.sin(3 * dlat) * math.cos(3 * slat)
        )
    )
    one = m + _N0
    two = nu / 2 * sin * cos
    three = nu / 24 * sin * cos**3 * (5 - tan**2 + 9 * eta2)
    three_a = nu / 720 * sin * cos**5 * (61 - 58 * tan**2 + tan**4)
    four = nu * cos
    five = nu / 6 * cos**3 * (nu / rho - tan**2)
    six = nu / 120 * cos**5 * (5 - 18 * tan**2 + tan**4 + 14 * eta2 - 58 * tan**2 * eta2)
    dlon = lon - _LON0
    northing = one + two * dlon**2 + three * dlon**4 + three_a * dlon**6
    easting = _E0 + four * dlon + five * dlon**3 + six * dlon**5
    return easting, northing


def grid_km(lat_deg: float, lon_deg: float) -> tuple[float, float]:
    """A WGS84 point (a hospital's latitude and longitude) on the map: National Grid kilometres,
    to 100 m, as the prepared boundaries are."""
    easting, northing = osgb36_grid(*wgs84_to_osgb36(lat_deg, lon_deg))
    return round(easting / 1000, 1), round(northing / 1000, 1)


# ---------------------------------------------------------------- the prepared topology


@dataclass(frozen=True)
class Area:
    code: str
    name: str
    rings: tuple[tuple[int, ...], ...]  # arc indexes; ~i is arc i walked backwards
    point: tuple[float, float]  # a point inside the area (for its hover and click marker)


class Geography:
    """The prepared boundaries: arcs (each a list of x, y in km) and the areas made of them."""

    def __init__(self, data: Mapping[str, object]) -> None:
        arcs = data["arcs"]
        assert isinstance(arcs, list)
        self.arcs: list[tuple[tuple[float, ...], tuple[float, ...]]] = [
            (tuple(flat[0::2]), tuple(flat[1::2])) for flat in arcs
        ]
        areas = data["areas"]
        assert isinstance(areas, dict)
        self.areas: dict[str, Area] = {
            code: Area(code, str(a["name"]), tuple(tuple(r) for r in a["rings"]), (a["point"][0], a["point"][1]))
            for code, a in areas.items()
        }
        users: list[list[str]] = [[] for _ in self.arcs]
        for area in self.areas.values():
            for ring in area.rings:
                for index in ring:
                    users[index if index >= 0 else ~index].append(area.code)
        self.users = [tuple(u) for u in users]  # the areas each arc bounds: two inland, one on a coast or border
        self._shapes = {code: self._shape(area) for code, area in self.areas.items()}
        self._bounds = {code: _box(*shape) for code, shape in self._shapes.items()}

    def _ring(self, ring: tuple[int, ...]) -> tuple[list[float], list[float]]:
        xs: list[float] = []
        ys: list[float] = []
        for index in ring:
            x, y = self.arcs[index if index >= 0 else ~index]
            if index < 0:
                x, y = x[::-1], y[::-1]
            start = 1 if xs else 0  # an arc begins where the one before it ended
            xs.extend(x[start:])
            ys.extend(y[start:])
        return xs, ys

    def _shape(self, area: Area) -> Line:
        xs: list[float | None] = []
        ys: list[float | None] = []
        for ring in area.rings:
            x, y = self._ring(ring)
            xs.extend([*x, None])
            ys.extend([*y, None])
        return xs, ys

    def bounds(self, code: str) -> tuple[float, float, float, float]:
        """An area's box: left, bottom, right, top (km)."""
        return self._bounds[code]

    def shapes(self, codes: Iterable[str]) -> Line:
        """The areas' rings, one closed piece each, for a scatter trace with ``fill="toself"``."""
        xs: list[float | None] = []
        ys: list[float | None] = []
        for code in codes:
            x, y = self._shapes.get(code, ([], []))
            xs.extend(x)
            ys.extend(y)
        return xs, ys

    def outline(self, codes: Iterable[str]) -> Line:
        """The outline of a set of areas: every arc that one of them shares with no other member."""
        inside = set(codes)
        return self._arcs(lambda users: sum(u in inside for u in users) == 1)

    def borders(self, groups: Mapping[str, str]) -> Line:
        """The outlines of several sets at once (area -> its set, e.g. each CDOP's footprint):
        the arcs between areas of different sets, and those on the edge of any set."""

        def between(users: tuple[str, ...]) -> bool:
            owners = [groups[u] for u in users if u in groups]
            return bool(owners) and (len(owners) == 1 or len(set(owners)) > 1)

        return self._arcs(between)

    def coast(self) -> Line:
        """England's own outline: the arcs no two areas share."""
        return self._arcs(lambda users: len(users) == 1)

    def _arcs(self, keep: Callable[[tuple[str, ...]], bool]) -> Line:
        xs: list[float | None] = []
        ys: list[float | None] = []
        for (x, y), users in zip(self.arcs, self.users, strict=True):
            if keep(users):
                xs.extend([*x, None])
                ys.extend([*y, None])
        return xs, ys


def _box(xs: Sequence[float | None], ys: Sequence[float | None]) -> tuple[float, float, float, float]:
    x = [v for v in xs if v is not None]
    y = [v for v in ys if v is not None]
    return min(x), min(y), max(x), max(y)


@functools.cache
def geography(path: Path = TOPOLOGY) -> Geography:
    """The prepared boundaries, read once per process (they change only with the code)."""
    with path.open(encoding="utf-8") as handle:
        return Geography(json.load(handle))

"""The map as a figure of cartesian traces only (the app's plotly.js bundle has no map traces).

Areas are ``scatter`` polygons (``fill="toself"``, one trace per colour class,
pieces separated by None) in National Grid kilometres with equal axes; a
hidden marker inside each area carries its hover text and its code for a
click; hospitals are markers (colour and symbol by highest unit, size by
deaths) carrying their site code; lines join each area to the hospitals its
children died in. No SQL, no Dash: frames and prepared geometry in, a figure
(plotly's JSON form, as in ``dashboard.ui.figures``) out.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import polars as pl

from dashboard.ui.figures import NHS_DARK_GREY, NHS_MID_GREY, Figure, layout_figure
from queries.geography import Geography, Line, grid_km

# sequential blues, light to dark: deaths of children who lived in an area
AREA_COLOURS = ("#D4E6F4", "#A2C8E8", "#5E9FD6", "#1F6FC1", "#003087")
FOOTPRINT_EMPTY = "#EEF2F4"  # a footprint area where no child in view lived
# highest unit: colour and symbol (never colour alone)
UNIT_STYLE: dict[str, tuple[str, str]] = {
    "picu": ("#AE2573", "star"),
    "nicu": ("#ED8B00", "diamond"),
    "lnu": ("#FFB81C", "square"),
    "scu": ("#00A499", "triangle-up"),
    "none": ("#768692", "circle"),
}
UNIT_SHORT = {"picu": "PICU", "nicu": "NICU", "lnu": "LNU", "scu": "SCU", "none": "no PICU or neonatal unit"}
FLOW_COLOUR = "rgba(218, 41, 28, 0.45)"
FLOW_WIDTHS = ((1, 0.7), (3, 1.6), (10, 3.0), (30, 5.0))  # (from this many deaths, line width)
NICE = (1, 2, 3, 5, 10, 15, 20, 25, 30, 40, 50, 60, 75, 100, 125, 150, 200, 250, 300, 400, 500, 750, 1000, 2000, 5000)
OUTLINE_COLOUR = "#212B32"  # near black: it shows over every class of blue
HEIGHT = 680
AREA_MARKER_SIZE = 40  # px; every hospital marker is smaller (see _size)


@dataclass(frozen=True)
class Hospital:
    code: str
    name: str
    trust: str
    unit: str  # a key of codes.HIGHEST_UNITS
    x: float
    y: float
    deaths: int
    non_residents: int
    places: tuple[tuple[str, int], ...]  # (place label, deaths), most first


@dataclass(frozen=True)
class MapData:
    footprint: tuple[str, ...]  # the areas shaded as the footprint (all England for an administrator)
    outline: Line  # the footprint's outline, or every footprint's for all England
    areas: dict[str, int]  # deaths by area of residence (English local authorities)
    names: dict[str, str]
    hospitals: tuple[Hospital, ...]
    flows: tuple[tuple[str, str, int], ...]  # (area, site, deaths) at or above the threshold
    england: bool


def site_points(sites: pl.DataFrame) -> dict[str, tuple[float, float]]:
    """Where each site of ``report.hospital_sites`` is on the map (km); a site with no position is left out."""
    return {
        code: grid_km(lat, lon)
        for code, lat, lon in sites.select("site_code", "latitude", "longitude").iter_rows()
        if lat is not None and lon is not None
    }


def hospitals_from(
    sites: pl.DataFrame, points: dict[str, tuple[float, float]], places: pl.DataFrame, residence: pl.DataFrame
) -> tuple[Hospital, ...]:
    """Each site of the scope (``report.hospital_sites``) that has a position (``site_points``), with
    its deaths by place and residence."""
    by_place: dict[str, list[tuple[str, int]]] = {}
    for site, label, deaths in zip(*(places[c].to_list() for c in ("site_code", "place_label", "deaths")), strict=True):
        by_place.setdefault(site, []).append((label, deaths))
    outside: dict[str, int] = {}
    for site, group, deaths in zip(
        *(residence[c].to_list() for c in ("site_code", "residence_group", "deaths")), strict=True
    ):
        if group in ("england", "uk_other", "outside_uk"):
            outside[site] = outside.get(site, 0) + deaths
    hospitals = []
    for code, name, trust, unit in sites.select("site_code", "site_name", "trust_name", "highest_unit").iter_rows():
        if code not in points:
            continue  # a site with no position cannot be drawn
        x, y = points[code]
        counted = sorted(by_place.get(code, []), key=lambda item: -item[1])
        total = sum(n for _, n in counted)
        hospitals.append(Hospital(code, name, trust, unit, x, y, total, outside.get(code, 0), tuple(counted)))
    return tuple(hospitals)


def count_classes(counts: Sequence[int], most: int = len(AREA_COLOURS)) -> list[tuple[int, int]]:
    """Up to ``most`` classes (low, high) of positive counts: a break at the round number nearest
    each of the counts' quantiles (the k-th of ``most``), so that each class holds a fair share of the areas."""
    values = sorted(c for c in counts if c > 0)
    if not values:
        return []
    breaks: list[int] = []
    for k in range(1, most):
        at = values[min(len(values) - 1, k * len(values) // most)]
        nice = min(NICE, key=lambda n: abs(math.log(n / at)))  # the nearest round number, by ratio
        if values[0] <= nice < values[-1] and (not breaks or nice > breaks[-1]):  # a break that splits the counts
            breaks.append(nice)
    bounds, low = [], 1
    for high in breaks:
        bounds.append((low, high))
        low = high + 1
    bounds.append((low, values[-1]))
    return bounds


def class_label(low: int, high: int) -> str:
    return f"{low:,} death{'s' if high > 1 else ''}" if low == high else f"{low:,}-{high:,} deaths"


def _polygons(geo: Geography, areas: Sequence[str], name: str, colour: str, legend: bool = True) -> dict[str, Any]:
    xs, ys = geo.shapes(areas)
    return {
        "type": "scatter",
        "mode": "lines",
        "x": xs,
        "y": ys,
        "fill": "toself",
        "fillcolor": colour,
        "line": {"color": "white", "width": 0.6},
        "name": name,
        "hoverinfo": "skip",
        "showlegend": legend,
        "legendgroup": "areas",
    }


def _line(line: Line, name: str, colour: str, width: float, **extra: Any) -> dict[str, Any]:
    return {
        "type": "scatter",
        "mode": "lines",
        "x": line[0],
        "y": line[1],
        "line": {"color": colour, "width": width},
        "name": name,
        "hoverinfo": "skip",
        **extra,
    }


def _hospital_text(h: Hospital) -> str:
    places = "".join(f"<br>  {label}: {n:,}" for label, n in h.places) or "<br>  no deaths in view"
    share = f"{100 * h.non_residents / h.deaths:.0f}%" if h.deaths else "–"
    return (
        f"<b>{h.name}</b><br>{h.trust}<br>Highest unit: {UNIT_SHORT[h.unit]}<br>"
        f"{h.deaths:,} death{'s' if h.deaths != 1 else ''} by place in hospital:{places}"
        f"<br>Non-residents: {share} ({h.non_residents:,})"
    )


def _size(deaths: int, largest: int) -> float:
    """Marker diameter in px: growing with the square root of deaths, 7 px for a hospital with none in view."""
    return 7.0 if deaths <= 0 else round(9 + 21 * math.sqrt(deaths / max(largest, 1)), 1)


def map_figure(geo: Geography, data: MapData) -> Figure:
    """The footprint shaded and outlined, where the children lived shaded by count, lines from
    each area to the hospitals its children died in, and the hospitals on top."""
    drawn = [code for code in data.areas if code in geo.areas and data.areas[code] > 0]
    traces: list[dict[str, Any]] = [_line(geo.coast(), "England", NHS_MID_GREY, 0.8, showlegend=False)]
    empty = [code for code in data.footprint if code in geo.areas and data.areas.get(code, 0) == 0]
    if empty:
        label = "Area with no deaths in view" if data.england else "Footprint area, no deaths in view"
        traces.append(_polygons(geo, empty, label, FOOTPRINT_EMPTY))
    for colour, (low, high) in zip(AREA_COLOURS, count_classes([data.areas[c] for c in drawn]), strict=False):
        members = [c for c in drawn if low <= data.areas[c] <= high]
        traces.append(_polygons(geo, members, f"Lived here: {class_label(low, high)}", colour))
    outline_name = "CDOP footprints" if data.england else "Footprint outline"
    traces.append(_line(data.outline, outline_name, OUTLINE_COLOUR, 2.5 if not data.england else 1.0))
    traces += _flow_traces(geo, data)
    traces.append(_area_markers(geo, data, drawn))
    largest = max((h.deaths for h in data.hospitals), default=0)
    for unit, (colour, symbol) in UNIT_STYLE.items():
        members = [h for h in data.hospitals if h.unit == unit]
        if not members:
            continue
        traces.append(
            {
                "type": "scatter",
                "mode": "markers",
                "x": [h.x for h in members],
                "y": [h.y for h in members],
                "customdata": [h.code for h in members],
                "text": [_hospital_text(h) for h in members],
                "hovertemplate": "%{text}<extra></extra>",
                "marker": {
                    "color": colour,
                    "symbol": symbol,
                    "size": [_size(h.deaths, largest) for h in members],
                    "line": {"color": "#212B32", "width": 1},
                    "opacity": 0.95,
                },
                "name": f"Hospital, highest unit: {UNIT_SHORT[unit]}",
                "legendgroup": "hospitals",
            }
        )
    x_range, y_range = _extent(geo, [*data.footprint, *_most_of(data.areas, drawn)], data.hospitals)
    figure = layout_figure(
        traces,
        height=HEIGHT,
        legend=True,
        xaxis={"visible": False, "range": x_range},
        yaxis={"visible": False, "range": y_range, "scaleanchor": "x", "scaleratio": 1},
        margin={"l": 4, "r": 4, "t": 4, "b": 4},
        hovermode="closest",
        clickmode="event",
        dragmode="pan",
        # a filter change keeps the reader's zoom; another footprint starts afresh
        uirevision=",".join(data.footprint[:3]) + f"/{len(data.footprint)}",
    )
    figure["layout"]["legend"] = {"x": 1.01, "xanchor": "left", "y": 1, "font": {"size": 12}}  # beside the map
    figure["layout"]["hoverlabel"]["align"] = "left"
    return figure


def _flow_traces(geo: Geography, data: MapData) -> list[dict[str, Any]]:
    """Lines from an area to a hospital, one trace per band of deaths (wider for more)."""
    where = {h.code: (h.x, h.y) for h in data.hospitals}
    bands: list[tuple[list[float | None], list[float | None]]] = [([], []) for _ in FLOW_WIDTHS]
    for area, site, deaths in data.flows:
        if area not in geo.areas or site not in where:
            continue
        band = max(i for i, (least, _) in enumerate(FLOW_WIDTHS) if deaths >= least)
        (x0, y0), (x1, y1) = geo.areas[area].point, where[site]
        bands[band][0].extend([x0, x1, None])
        bands[band][1].extend([y0, y1, None])
    traces = []
    for i, ((least, width), line) in enumerate(zip(FLOW_WIDTHS, bands, strict=True)):
        if not line[0]:
            continue
        upper = FLOW_WIDTHS[i + 1][0] - 1 if i + 1 < len(FLOW_WIDTHS) else None
        label = f"{least}+ deaths" if upper is None else class_label(least, upper)
        traces.append(_line(line, f"From home to hospital: {label}", FLOW_COLOUR, width, legendgroup="flows"))
    return traces


def _area_markers(geo: Geography, data: MapData, drawn: Sequence[str]) -> dict[str, Any]:
    """A hidden marker inside each area with deaths: its hover text, and its code for a click."""
    inside = set(data.footprint)
    here = "England" if data.england else "this footprint"
    text = [
        f"<b>{data.names.get(c, c)}</b><br>{data.areas[c]:,} death{'s' if data.areas[c] != 1 else ''} "
        f"of children who lived here<br>{'in' if c in inside else 'outside'} {here}"
        for c in drawn
    ]
    return {
        "type": "scatter",
        "mode": "markers",
        "x": [geo.areas[c].point[0] for c in drawn],
        "y": [geo.areas[c].point[1] for c in drawn],
        "customdata": list(drawn),
        "text": text,
        "hovertemplate": "%{text}<extra></extra>",
        # larger than any hospital's: plotly ranks a pointer inside several markers by 1 - 3/radius, so
        # the smaller (a hospital) wins where they overlap, and an area still answers around its middle
        "marker": {"size": AREA_MARKER_SIZE, "color": NHS_DARK_GREY, "opacity": 0},
        "name": "Areas of residence",
        "showlegend": False,
    }


def _most_of(areas: dict[str, int], drawn: Sequence[str], share: float = 0.9) -> list[str]:
    """The areas, most deaths first, that hold ``share`` of them: the map opens on these (a long
    tail of single deaths far away would shrink the footprint to a dot; zooming out shows them)."""
    total, held, chosen = sum(areas[c] for c in drawn), 0, []
    for code in sorted(drawn, key=lambda c: -areas[c]):
        if held >= share * total:
            break
        chosen.append(code)
        held += areas[code]
    return chosen


def _extent(geo: Geography, areas: Sequence[str], hospitals: Sequence[Hospital]) -> tuple[list[float], list[float]]:
    """The x and y ranges that hold the footprint, the areas drawn and the hospitals, with a margin."""
    boxes = [geo.bounds(c) for c in areas if c in geo.areas] + [(h.x, h.y, h.x, h.y) for h in hospitals]
    if not boxes:
        boxes = [geo.bounds(c) for c in geo.areas]
    left, bottom = min(b[0] for b in boxes), min(b[1] for b in boxes)
    right, top = max(b[2] for b in boxes), max(b[3] for b in boxes)
    pad = max(right - left, top - bottom, 20) * 0.05
    return [round(left - pad, 1), round(right + pad, 1)], [round(bottom - pad, 1), round(top + pad, 1)]

"""A panel pack read back with openpyxl, without Excel: each sheet as an HTML page (its cells as a
table; each chart drawn as SVG bars or lines from the very cells its series name), so that the
tests can check what a chart draws and the browser suite can take the README's pictures of it."""

from __future__ import annotations

import html
from dataclasses import dataclass

from openpyxl import Workbook
from openpyxl.utils.cell import range_boundaries

BAR, GAP = 18, 6
COLOURS = ("#005eb8", "#ed8b00", "#007f3b", "#7c2855", "#330072", "#41b6e6", "#da291c", "#768692")


@dataclass(frozen=True)
class Chart:
    title: str
    kind: str  # "bar" (horizontal), "col" or "line"
    stacked: bool
    categories: list[str]
    series: list[tuple[str, list[object]]]


def cells(book: Workbook, ref: str) -> list[object]:
    """The values of a reference like 'Sheet'!$B$5:$B$9, row by row."""
    sheet, _, area = ref.rpartition("!")
    ws = book[sheet.strip("'").replace("''", "'")]
    low_col, low_row, high_col, high_row = range_boundaries(area.replace("$", ""))
    rows = ws.iter_rows(min_row=low_row, max_row=high_row, min_col=low_col, max_col=high_col, values_only=True)
    return [value for row in rows for value in row]


def charts(book: Workbook, name: str) -> list[Chart]:
    found = []
    for chart in book[name]._charts:  # openpyxl keeps a read chart there
        title = "".join(run.t for p in chart.title.tx.rich.p for run in (p.r or [])) if chart.title else ""
        kind = "line" if chart.tagname == "lineChart" else getattr(chart, "type", "col")
        first = chart.series[0]
        ref = first.cat.strRef or first.cat.numRef
        categories = [str(v) for v in cells(book, ref.f)]
        series = [(str(cells(book, s.tx.strRef.f)[0]), cells(book, s.val.numRef.f)) for s in chart.series]
        found.append(Chart(title, kind, getattr(chart, "grouping", "") == "stacked", categories, series))
    return found


def sheet_html(book: Workbook, name: str) -> str:
    ws = book[name]
    rows = [
        "<tr>" + "".join(f"<td>{'' if v is None else html.escape(_shown(v))}</td>" for v in row) + "</tr>"
        for row in ws.iter_rows(values_only=True)
    ]
    drawn = "".join(_svg(chart) for chart in charts(book, name))
    return (
        "<!doctype html><html lang='en'><head><meta charset='utf-8'><title>"
        + html.escape(name)
        + "</title><style>body{font:13px Arial,sans-serif;margin:12px;display:flex;gap:24px;align-items:flex-start}"
        "table{border-collapse:collapse}td{border:1px solid #d8dde0;padding:2px 6px;white-space:nowrap;max-width:520px;"
        "overflow:hidden;text-overflow:ellipsis}tr:first-child td{font-weight:bold;font-size:16px;border:0}"
        ".tabs{font-size:11px;color:#425563}</style></head><body><div><p class='tabs'>Sheet: "
        + html.escape(name)
        + " (read back with openpyxl)</p><table>"
        + "".join(rows)
        + "</table></div>"
        + drawn
        + "</body></html>"
    )


def _shown(value: object) -> str:
    return f"{value:,}" if isinstance(value, int) else str(value)


def _number(value: object) -> float:
    return float(value) if isinstance(value, int | float) else 0.0  # a hidden '[c]' is a gap


def _svg(chart: Chart) -> str:
    count = len(chart.categories)
    totals = [
        sum(_number(s[1][i]) for s in chart.series)
        if chart.stacked
        else max((_number(s[1][i]) for s in chart.series), default=0)
        for i in range(count)
    ]
    top = max(totals, default=1) or 1
    width, label = 720, 230
    plot = width - label - 20
    parts = [f"<text x='10' y='18' font-weight='bold'>{html.escape(chart.title)}</text>"]
    if chart.kind == "bar":
        height = 40 + count * (BAR + GAP) + 30 * len(chart.series)
        for i, category in enumerate(chart.categories):
            y, x = 30 + i * (BAR + GAP), label
            parts.append(f"<text x='{label - 6}' y='{y + 13}' text-anchor='end'>{html.escape(category[:34])}</text>")
            for n, (_, values) in enumerate(chart.series):
                w = plot * _number(values[i]) / top
                parts.append(f"<rect x='{x:.1f}' y='{y}' width='{w:.1f}' height='{BAR}' fill='{COLOURS[n % 8]}'/>")
                x = x + w if chart.stacked else x
    else:
        height = 300 + 30 * len(chart.series)
        step = plot / max(count, 1)
        for n, (_, values) in enumerate(chart.series):
            points = [(label + step * (i + 0.5), 270 - 230 * _number(v) / top) for i, v in enumerate(values)]
            if chart.kind == "line":
                path = " ".join(f"{x:.1f},{y:.1f}" for x, y in points)
                parts.append(f"<polyline points='{path}' fill='none' stroke='{COLOURS[n % 8]}' stroke-width='2'/>")
            else:
                parts += [
                    f"<rect x='{x - step * 0.4:.1f}' y='{y:.1f}' width='{step * 0.8:.1f}' height='{270 - y:.1f}' "
                    f"fill='{COLOURS[n % 8]}'/>"
                    for x, y in points
                ]
        parts += [
            f"<text x='{label + step * (i + 0.5):.1f}' y='285' font-size='9' text-anchor='middle'>"
            f"{html.escape(c[:12])}</text>"
            for i, c in enumerate(chart.categories)
            if count <= 30 or i % (count // 30 + 1) == 0
        ]
    legend_y = height - 30 * len(chart.series) + 10
    parts += [
        f"<rect x='{label}' y='{legend_y + 30 * n - 10}' width='12' height='12' fill='{COLOURS[n % 8]}'/>"
        f"<text x='{label + 18}' y='{legend_y + 30 * n}'>{html.escape(name)}</text>"
        for n, (name, _) in enumerate(chart.series)
    ]
    label_text = html.escape(chart.title)
    return f"<svg width='{width}' height='{height}' role='img' aria-label='{label_text}'>{''.join(parts)}</svg>"

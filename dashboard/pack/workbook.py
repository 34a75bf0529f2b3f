"""Writing the panel pack: a cover sheet, then one sheet per table, each an Excel table with a
native chart beside it (xlsxwriter), so that a manager can paste both into a report.

No Flask and no queries here: it is handed what to write (``Cover``, ``CountedTable``).
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import IO, Any

import xlsxwriter
from xlsxwriter.worksheet import Worksheet

from dashboard.pack.tables import CountedTable, header

SHEET_NAME_LIMIT = 31  # Excel's
TABLE_ROW = 3  # the table's header row (0-based): title, subtitle, a blank row above it
WIDEST_COLUMN = 60
CHART_WIDTH = 760
BAR_HEIGHT = 18  # pixels per category of a horizontal bar chart, so that every label shows
FORMULA_START = re.compile(r"^[=+\-@\t\r]")
# Excel would run a cell's text as a formula, or open it as a link, if xlsxwriter wrote it as one:
# every text cell is written as text, whatever it holds
OPTIONS = {"in_memory": True, "strings_to_formulas": False, "strings_to_urls": False, "strings_to_numbers": False}


@dataclass(frozen=True)
class Cover:
    """The cover sheet: a title and (label, text) lines."""

    title: str
    lines: Sequence[tuple[str, str]]
    subtitle: str  # said under every sheet's title: the footprint, the as-at date, suppression


def write(target: IO[bytes], cover: Cover, tables: Sequence[CountedTable]) -> list[str]:
    """Write the workbook to ``target``; returns the names of its sheets, the cover first."""
    book = xlsxwriter.Workbook(target, OPTIONS)
    formats = _formats(book)
    names = sheet_names(tables)
    _cover(book.add_worksheet("Cover"), cover, tables, names, formats)
    for number, (table, name) in enumerate(zip(tables, names, strict=True), start=1):
        sheet = book.add_worksheet(name)
        _table(book, sheet, name, number, table, cover.subtitle, formats)
    book.set_properties({"title": cover.title, "comments": cover.subtitle})
    book.close()
    return ["Cover", *names]


def sheet_names(tables: Sequence[CountedTable]) -> list[str]:
    """'3. by-age-group': its place in the pack and the table's CSV name (unique, within Excel's 31
    characters; the cover and each sheet's subtitle say which page it is from)."""
    return [f"{number}. {table.spec.download}"[:SHEET_NAME_LIMIT] for number, table in enumerate(tables, start=1)]


def escaped(text: str) -> str:
    """Text that would start a formula, quoted (the values are quoted upstream; titles and headers here)."""
    return f"'{text}" if FORMULA_START.match(text) else text


def _formats(book: xlsxwriter.Workbook) -> dict[str, Any]:
    return {
        "title": book.add_format({"bold": True, "font_size": 14}),
        "subtitle": book.add_format({"italic": True, "font_color": "#505a5f"}),
        "label": book.add_format({"bold": True, "valign": "top"}),
        "text": book.add_format({"text_wrap": True, "valign": "top"}),
        "count": book.add_format({"num_format": "#,##0"}),
        "hidden": book.add_format({"align": "right"}),
    }


def _cover(
    sheet: Worksheet, cover: Cover, tables: Sequence[CountedTable], names: list[str], formats: dict[str, Any]
) -> None:
    sheet.set_column(0, 0, 28)
    sheet.set_column(1, 1, 100)
    sheet.write_string(0, 0, escaped(cover.title), formats["title"])
    row = 2
    for label, text in cover.lines:
        sheet.write_string(row, 0, label, formats["label"])
        sheet.write_string(row, 1, escaped(text), formats["text"])
        row += 1
    row += 1
    sheet.write_string(row, 0, "Sheets", formats["label"])
    for table, name in zip(tables, names, strict=True):
        sheet.write_url(row, 1, f"internal:'{name}'!A1", string=escaped(f"{name}: {table.title}"))
        row += 1
    sheet.activate()


def _table(
    book: xlsxwriter.Workbook,
    sheet: Worksheet,
    name: str,
    number: int,
    table: CountedTable,
    subtitle: str,
    formats: dict[str, Any],
) -> None:
    sheet.write_string(0, 0, escaped(table.title), formats["title"])
    sheet.write_string(1, 0, escaped(f"{table.page}. {subtitle}"), formats["subtitle"])
    counts = {table.columns.index(c) for c in table.values} | (
        {table.columns.index("deaths")} if "deaths" in table.columns else set()
    )
    headers = [escaped(header(c)) for c in table.columns]
    if not table.rows:
        sheet.write_string(TABLE_ROW, 0, "Nothing to count in view.")
        return
    last = TABLE_ROW + len(table.rows)
    sheet.add_table(
        TABLE_ROW,
        0,
        last,
        len(headers) - 1,
        {
            "name": f"Table{number}",
            "style": "Table Style Medium 2",
            "columns": [
                {"header": h, **({"format": formats["count"]} if i in counts else {})} for i, h in enumerate(headers)
            ],
        },
    )
    for offset, values in enumerate(table.rows, start=TABLE_ROW + 1):
        for column, value in enumerate(values):
            _cell(sheet, offset, column, value, column in counts, formats)
    widths = [len(h) for h in headers]
    for values in table.rows:
        for column, value in enumerate(values):
            widths[column] = max(widths[column], len(f"{value:,}" if isinstance(value, int) else str(value or "")))
    for column, width in enumerate(widths):
        sheet.set_column(column, column, min(WIDEST_COLUMN, width + 2))
    sheet.freeze_panes(TABLE_ROW + 1, 0)
    if table.chart != "none":
        sheet.insert_chart(TABLE_ROW, len(headers) + 1, _chart(book, name, table, last))


def _cell(sheet: Worksheet, row: int, column: int, value: object, count: bool, formats: dict[str, Any]) -> None:
    if isinstance(value, bool) or value is None:
        sheet.write_blank(row, column, None)
    elif isinstance(value, int | float):
        sheet.write_number(row, column, value, formats["count"] if count else None)
    else:  # text, a hidden count ('[c]') among them
        sheet.write_string(row, column, str(value), formats["hidden"] if count else None)


def _chart(book: xlsxwriter.Workbook, name: str, table: CountedTable, last: int) -> Any:
    """The table's chart, as on screen: horizontal bars, columns or lines; stacked when the table
    has a column per group. Hidden counts ('[c]') are text, which Excel draws as gaps."""
    stacked = len(table.values) > 1 and table.chart in ("bar", "column")
    chart = book.add_chart({"type": table.chart, **({"subtype": "stacked"} if stacked else {})})
    category = table.columns.index(table.category)
    for column_name in table.values:
        column = table.columns.index(column_name)
        chart.add_series(
            {
                "name": [name, TABLE_ROW, column],
                "categories": [name, TABLE_ROW + 1, category, last, category],
                "values": [name, TABLE_ROW + 1, column, last, column],
                **({"gap": 40} if table.chart != "line" else {"marker": {"type": "circle", "size": 4}}),
            }
        )
    chart.set_title({"name": escaped(table.title), "name_font": {"size": 11}})
    chart.set_legend({"position": "bottom"} if len(table.values) > 1 else {"none": True})
    if table.chart == "bar":  # Excel draws the first category at the bottom; the screen, at the top
        chart.set_y_axis({"reverse": True})  # a bar chart's y axis is its categories'
    rows = last - TABLE_ROW
    height = max(320, 120 + BAR_HEIGHT * rows) if table.chart == "bar" else 360
    chart.set_size({"width": CHART_WIDTH, "height": height})
    return chart

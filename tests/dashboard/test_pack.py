"""The panel pack: one workbook of a page's (or every page's) tables, scoped, suppressed like the
CSVs, escaped, audited; each table an Excel table with its chart."""

from __future__ import annotations

import csv
import io
import zipfile

import openpyxl
import polars as pl
import pytest

from dashboard.downloads import HIDDEN
from dashboard.pack.spec import PackTable
from dashboard.pack.tables import CountedTable, header, report_pages
from dashboard.pack.workbook import Cover, write
from operational import audit
from tests.conftest import signed_in

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def workbook(response) -> openpyxl.Workbook:
    assert response.status_code == 200, response.get_data(as_text=True)[:300]
    assert response.mimetype == XLSX
    return openpyxl.load_workbook(io.BytesIO(response.data))


def table_rows(sheet) -> list[tuple[object, ...]]:
    """The rows of the sheet's one Excel table, its header first."""
    (table,) = sheet.tables.values()
    return [tuple(cell.value for cell in row) for row in sheet[table.ref]]


def csv_rows(client, name: str, query: str) -> list[dict[str, str]]:
    response = client.get(f"/download/{name}.csv{query}")
    assert response.status_code == 200
    return list(csv.DictReader(io.StringIO(response.get_data(as_text=True))))


def every_table() -> list[tuple[str, PackTable]]:
    return [(page.NAME, spec) for page in report_pages() for spec in page.PACK]


def test_a_cdop_pack_of_every_page_for_2024_25_suppressed(dash_app) -> None:
    client = signed_in(dash_app, "llr")
    response = client.get("/download/pack.xlsx?pages=all&suppress=1&fy=2024")
    assert response.headers["Content-Disposition"].startswith('attachment; filename="LLR_pack-all_2024-25_')
    book = workbook(response)
    tables = every_table()
    assert book.sheetnames == ["Cover", *(f"{n}. {spec.download}"[:31] for n, (_, spec) in enumerate(tables, 1))]
    cover = {row[0]: row[1] for row in book["Cover"].iter_rows(values_only=True) if row[0]}
    assert cover["Footprint"] == "Leicester, Leicestershire and Rutland CDOP"
    assert cover["Period"] == "2024/25" and cover["Made by"] == "llr" and "UTC" in cover["Made at"]
    assert cover["Pages"] == "Overview, Trusts and hospitals, Reviewing CDOPs, Reviews, Map, Trends"
    assert cover["Small numbers"].startswith("Suppressed for publication") and "Synthetic data" in cover
    assert cover["Filters in force"].startswith("None")
    hidden = 0
    for name, (page, spec) in zip(book.sheetnames[1:], tables, strict=True):
        sheet = book[name]
        assert sheet["A1"].value.startswith(spec.title_for({})) and sheet["A1"].value.endswith("2024/25")
        assert sheet["A2"].value.startswith(f"{page}. Leicester") and "hidden as [c]" in sheet["A2"].value
        if not sheet.tables:  # nothing to count (LLR had no review of a 2024/25 death still open): it says so
            assert csv_rows(client, spec.download, "?fy=2024") == []
            assert sheet["A4"].value == "Nothing to count in view."
            continue
        assert sheet.freeze_panes == "A5"  # the title rows and the header stay in view
        rows = table_rows(sheet)
        assert len(rows) > 1, name
        assert len(sheet._charts) == (spec.chart != "none"), name
        hidden += sum(value == HIDDEN for row in rows for value in row)
        assert all(isinstance(v, int | float | str) for row in rows[1:] for v in row if v is not None)
        if spec.value == "deaths":  # tables of deaths hold counts and text; the Reviews page's, shares too
            assert all(isinstance(v, int | str) for row in rows[1:] for v in row if v is not None)
    assert hidden > 0  # LLR's single year has small counts, and they are hidden


@pytest.mark.parametrize(("page", "spec"), every_table(), ids=lambda x: getattr(x, "download", x))
def test_each_sheet_holds_the_same_counts_as_its_csv(dash_app, page: str, spec: PackTable) -> None:
    """Same query function, same cleaned filters, same suppression: the sheet's counts are the CSV's,
    laid out as the page shows them."""
    client = signed_in(dash_app, "ncl")
    path = next(view.PATH for view in report_pages() if page == view.NAME)
    settings = "".join(f"&{k}={v}" for k, v in spec.settings.items())
    for query in ("?fy=2023", "?fy=2023&suppress=1"):
        book = workbook(client.get(f"/download/pack.xlsx{query}&page={path}"))
        number = [s.download for s in next(v for v in report_pages() if path == v.PATH).PACK].index(spec.download)
        expected = csv_rows(client, spec.download, query + settings)
        if not expected:  # nothing to count (no open review, say): the sheet says so and has no table
            assert not book.worksheets[number + 1].tables
            continue
        rows = table_rows(book.worksheets[number + 1])
        cells = [v for row in rows[1:] for v in row[len(rows[0]) - _counts(spec, rows[0]) :]]
        wanted = list(expected[0].values()) if spec.download == "headline" else [r[spec.value] for r in expected]
        shown = [str(v) for v in cells if v not in (0, "0")]
        assert sorted(shown) == sorted(w for w in wanted if w != "0"), (spec.download, query)


def _counts(spec: PackTable, header: tuple[object, ...]) -> int:
    """How many of the sheet's last columns are counts: one, or one per group of a wide table."""
    if spec.series is None or spec.download == "headline":
        return 1
    known = {"Trust code", "Trust", "Hospital code", "Hospital", "Hospital's trust code", "Highest unit", "Period"}
    known |= {"Financial year", "Quarter", "Month", "Measure or group"}
    return sum(1 for h in header if h not in known)


def test_the_trends_pack_follows_the_page_grain_and_split(dash_app) -> None:
    client = signed_in(dash_app, "llr")
    book = workbook(client.get("/download/pack.xlsx?page=/trends&grain=month&split=place&fy=2023"))
    rows = table_rows(book.worksheets[1])
    assert rows[0][:2] == ("Month", "Period") and "Paediatric intensive care unit" in rows[0]
    assert len(rows) - 1 == 12  # a row per month
    assert book.worksheets[1]["A1"].value == "Deaths in hospital by month, by place in hospital, 2023/24"
    (chart,) = book.worksheets[1]._charts
    assert chart.tagname == "lineChart" and len(chart.series) == len(rows[0]) - 2


def test_bad_pack_requests_get_one_line_errors(dash_app) -> None:
    client = signed_in(dash_app, "llr")
    assert client.get("/download/pack.xlsx?pages=every").status_code == 400
    for page in ("/cases", "/admin/users", "/whats-new", "/nowhere", "<script>"):
        response = client.get(f"/download/pack.xlsx?page={page}")
        assert response.status_code == 404 and page not in response.get_data(as_text=True)
    assert dash_app.server.test_client().get("/download/pack.xlsx").status_code == 401


def test_packs_are_audited(dash_app) -> None:
    client = signed_in(dash_app, "ncl")
    workbook(client.get("/download/pack.xlsx?page=/reviewing&fy=2024&trust=RBS&suppress=1"))
    latest = audit.recent(dash_app.server.extensions["cdop"].engine, event="download")[0]
    assert latest["username"] == "ncl"
    detail = latest["detail"]
    assert detail["view"] == "pack" and detail["pages"] == ["/reviewing"] and detail["suppressed"] is True
    assert detail["query"] == "?fy=2024" and detail["sheets"] == 5 and detail["rows"] > 0  # RBS is not NCL's


def test_formula_like_text_is_written_as_text(tmp_path) -> None:
    spec = PackTable("by-trust", '=HYPERLINK("http://x")', "trust_name")
    table = CountedTable(
        "Overview",
        spec,
        "=1+1 title",
        ("trust_name", "deaths"),
        [("=SUM(A1)", 3), ("@cmd", "[c]"), ("-2", 0)],
        "trust_name",
        ("deaths",),
        "bar",
    )
    buffer = io.BytesIO()
    write(buffer, Cover("+cover", [("Footprint", "=evil()")], "-subtitle"), [table])
    book = openpyxl.load_workbook(io.BytesIO(buffer.getvalue()))
    cells = [c for sheet in book.worksheets for row in sheet.iter_rows() for c in row if c.value is not None]
    assert all(c.data_type != "f" for c in cells)
    texts = {c.value for c in cells if isinstance(c.value, str)}
    assert {"'+cover", "'=evil()", "'=1+1 title", "Overview. -subtitle"} <= texts
    # values arrive quoted from dashboard.pack.tables (as in the CSVs); even unquoted, they are only text
    assert "=SUM(A1)" in texts and "@cmd" in texts
    with zipfile.ZipFile(io.BytesIO(buffer.getvalue())) as archive:
        sheets = "".join(archive.read(n).decode() for n in archive.namelist() if n.startswith("xl/worksheets/"))
    assert "<f>" not in sheets  # no formula anywhere


def test_pivoted_sheets_add_no_totals() -> None:
    """A wide sheet is the CSV's cells moved into columns: no margin a hidden cell could be worked out from."""
    from dashboard.pack.tables import _pivot

    frame = pl.DataFrame({"site_name": ["A", "A", "B"], "place_label": ["x", "y", "x"], "deaths": ["[c]", "7", "9"]})
    columns, rows, names = _pivot(frame, "place_label")
    assert columns == ("site_name", "x", "y") and names == ("x", "y")
    assert rows == [("A", "[c]", 7), ("B", 9, 0)]


def test_every_chart_draws_its_own_table(dash_app) -> None:
    """Read back with openpyxl: each chart's categories and series are the cells of the table beside it."""
    from tests.pack_preview import charts

    book = workbook(signed_in(dash_app, "ncl").get("/download/pack.xlsx?pages=all&fy=2024"))
    drawn = empty = 0
    for (_, spec), name in zip(every_table(), book.sheetnames[1:], strict=True):
        if not book[name].tables:  # nothing to count, so nothing drawn
            assert not charts(book, name)
            empty += spec.chart != "none"
            continue
        rows = table_rows(book[name])
        for chart in charts(book, name):
            drawn += 1
            assert chart.title == book[name]["A1"].value
            column = {header: [row[i] for row in rows[1:]] for i, header in enumerate(rows[0])}
            assert chart.categories == [str(v) for v in column[header(spec.category)]], spec.download
            for series_name, values in chart.series:
                assert values == column[series_name], (spec.download, series_name)
            assert chart.stacked == (len(chart.series) > 1 and chart.kind != "line")
    assert drawn == sum(spec.chart != "none" for _, spec in every_table()) - empty

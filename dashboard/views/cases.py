"""Cases: the case list, served page by page from the server for this scope only."""

from __future__ import annotations

from typing import Any

import dash_ag_grid as dag
from dash import Input, Output, State, dcc, html
from dash.exceptions import PreventUpdate

from dashboard.callbacks import Callbacks
from dashboard.context import opened_view
from dashboard.newness import rule_for
from dashboard.ui import grid_code, ids
from dashboard.ui.clicks import download_href
from dashboard.ui.filter_bar import BAR_STATE, sync_filter_bar
from dashboard.ui.text import number, period_label
from queries import report

callbacks = Callbacks()
PATH = "/cases"
NAME = "Cases"

TEXT_FILTER = {
    "filter": "agTextColumnFilter",
    "filterParams": {
        "filterOptions": ["contains", "startsWith", "equals"],
        "maxNumConditions": 1,
        "buttons": ["reset"],
    },
}
DATE_FILTER = {
    "filter": "agDateColumnFilter",
    "filterParams": {
        "filterOptions": ["equals", "lessThan", "greaterThan", "inRange"],
        "maxNumConditions": 1,
        "buttons": ["reset"],
    },
}
COLUMNS = [
    {"field": "case_ref", "headerName": "Case", "pinned": "left", "width": 140, **TEXT_FILTER},
    {"field": "date_of_death", "headerName": "Date of death", "width": 150, **DATE_FILTER},
    {"field": "financial_year", "headerName": "Financial year", "width": 130},
    {"field": "age_group", "headerName": "Age group", "width": 130},
    {"field": "sex", "headerName": "Sex", "width": 110},
    {"field": "trust_name", "headerName": "Trust", "width": 280, **TEXT_FILTER},
    {"field": "site_name", "headerName": "Hospital", "width": 240, **TEXT_FILTER},
    {"field": "place", "headerName": "Place in hospital", "width": 230},
    {"field": "residence_group", "headerName": "Residence", "width": 240},
    {"field": "reviewing_cdop", "headerName": "Reviewing CDOP", "width": 260, **TEXT_FILTER},
    {"field": "review_status", "headerName": "Review status", "width": 150},
    {"field": "expected_death", "headerName": "Expected", "width": 120},
    {"field": "attention", "headerName": "Attention", "width": 320},
]
PAGE_SIZE = 100
# AG Grid's filter operators, in the query layer's words; any other is dropped
GRID_TEXT_OPERATORS = {"contains": "contains", "startsWith": "starts_with", "endsWith": "ends_with", "equals": "equals"}
GRID_DATE_OPERATORS = {"equals": "on", "lessThan": "before", "greaterThan": "after", "inRange": "between"}
GRID_LOADING = "Loading the case list…"
GRID_UNAVAILABLE = "The case list's table could not be loaded. Reload the page to try again."


def grid() -> dag.AgGrid:
    return dag.AgGrid(
        id=ids.CASES_GRID,
        columnDefs=COLUMNS,
        defaultColDef={"sortable": True, "resizable": True, "filter": False},
        rowModelType="infinite",
        dashGridOptions={
            "pagination": True,
            "paginationPageSize": PAGE_SIZE,
            "cacheBlockSize": PAGE_SIZE,
            "paginationPageSizeSelector": False,
            "maxBlocksInCache": 10,
            "rowBuffer": 0,
            "ensureDomOrder": True,
            "suppressColumnVirtualisation": True,
        },
        className="ag-theme-quartz",
        style={"height": "640px", "width": "100%"},
    )


def layout(**_query: Any) -> html.Div:
    return html.Div(
        [
            html.H1("Cases"),
            html.P(
                "One row per death, with a pseudonymous case reference. Sort by any column; filter the case, "
                "trust, hospital, reviewing CDOP and date columns from their column menus. The Attention column "
                "flags deaths with no reviewing CDOP long after notification, a reviewer that is neither the "
                "child's home CDOP nor the hospital's, and reviews open long past the usual time (see What's new).",
                className="lede",
            ),
            html.Div(
                className="card",
                children=[
                    html.P(id=ids.CASES_COUNT, **{"aria-live": "polite"}),
                    # no grid yet: AG Grid's code is loaded by this page only (dashboard/ui/grid_code.py)
                    html.Div(id=ids.CASES_GRID_BOX, children=html.P(GRID_LOADING, className="hint")),
                    dcc.Store(id=ids.CASES_GRID_CODE, data=grid_code.address()),
                    dcc.Store(id=ids.CASES_GRID_READY),
                ],
            ),
        ]
    )


def sort_from(model: Any) -> list[tuple[str, bool]]:
    if not isinstance(model, list):
        return []
    out = []
    for item in model[:5]:
        if isinstance(item, dict) and item.get("colId") in report.CASE_COLUMNS and item.get("sort") in ("asc", "desc"):
            out.append((item["colId"], item["sort"] == "desc"))
    return out


def filters_from(model: Any) -> list[report.ColumnFilter]:
    """The grid's filter model, reduced to the filters the query layer supports."""
    if not isinstance(model, dict):
        return []
    out = []
    for column, spec in list(model.items())[:10]:
        if not isinstance(spec, dict):
            continue
        # the column says which words its operator is in; the filter type, where its values are
        words = GRID_DATE_OPERATORS if column in report.DATE_FILTER_COLUMNS else GRID_TEXT_OPERATORS
        grid_operator = spec.get("type")
        operator = words.get(grid_operator) if isinstance(grid_operator, str) else None
        if spec.get("filterType") == "date":
            found = report.column_filter(column, operator, spec.get("dateFrom"), spec.get("dateTo"))
        else:
            found = report.column_filter(column, operator, spec.get("filter"))
        if found is not None:
            out.append(found)
    return out


def _int(value: Any, default: int) -> int:
    return value if isinstance(value, int) and not isinstance(value, bool) and 0 <= value < 10**8 else default


@callbacks(
    Output(ids.CASES_GRID, "getRowsResponse"),
    Input(ids.CASES_GRID, "getRowsRequest"),
    State(ids.URL, "search"),
    prevent_initial_call=True,
)
def rows(request: Any, search: Any) -> dict[str, Any]:
    if not isinstance(request, dict):
        raise PreventUpdate
    start = _int(request.get("startRow"), 0)
    end = _int(request.get("endRow"), start + PAGE_SIZE)
    limit = max(0, min(end - start, report.MAX_PAGE))
    with opened_view(search) as view:
        column_filters = filters_from(request.get("filterModel"))
        page = report.case_list(
            view.conn,
            view.scope,
            view.filters,
            sort=sort_from(request.get("sortModel")) or [("date_of_death", True)],
            limit=limit,
            offset=start,
            column_filters=column_filters,
            rule=rule_for(view),
        )
        total = report.case_count(view.conn, view.scope, view.filters, column_filters)
    return {"rowData": page.with_columns(page["date_of_death"].cast(str)).to_dicts(), "rowCount": total}


callbacks.clientside(grid_code.LOAD, Output(ids.CASES_GRID_READY, "data"), Input(ids.CASES_GRID_CODE, "data"))


@callbacks(
    Output(ids.CASES_COUNT, "children"),
    Output(ids.CASES_GRID_BOX, "children"),
    Input(ids.URL, "search"),
    Input(ids.CASES_GRID_READY, "data"),
    *BAR_STATE,
)
def refresh(search: Any, grid_ready: Any, *bar: Any) -> tuple[Any, ...]:
    """New filters: a fresh grid (it asks for its first page itself) and the count.
    The grid only once AG Grid's code has run in the browser (``grid_ready``, from ``grid_code.LOAD``):
    before, Dash's renderer could not draw it. The flag says only that; it widens nothing."""
    with opened_view(search, page=PATH) as view:
        sync_filter_bar(view, search, bar)
        total = report.case_count(view.conn, view.scope, view.filters)
        period = period_label(view.filters, view.options)
        count = [
            f"{number(total)} deaths in hospitals of {view.scope.label}, {period}. ",
            html.A("Download the case list (CSV)", href=download_href("cases", view.query()), className="download"),
        ]
    return count, grid() if grid_ready is True else html.P(GRID_UNAVAILABLE, className="notice error", role="alert")

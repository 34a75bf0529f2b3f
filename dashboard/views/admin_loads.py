"""Data loads (administrators only): every extract load, when, by whom, from
which file, with its counts, and the rows each one rejected with their reasons.
Read-only: loads run at the command line (``python app.py load``)."""

from __future__ import annotations

from typing import Any

import polars as pl
from dash import Input, Output, dcc, html

from dashboard.auth.admin_gate import admin_callback
from dashboard.callbacks import Callbacks
from dashboard.context import services
from dashboard.ui import ids
from dashboard.ui.components import notice, table
from operational import audit
from queries import admin

callbacks = Callbacks()
PATH = "/admin/loads"
NAME = "Data loads"
ADMIN_ONLY = True
USES_FILTERS = False
REJECTED_SHOWN = 500


def layout(**_query: Any) -> html.Div:
    return html.Div(
        [
            html.H1("Data loads"),
            html.P(
                "Every extract loaded into the deaths store, newest first, and the rows each load rejected. "
                "Loads run at the command line (python app.py load FILE); the rejected rows with their values "
                "are also in the quarantine folder beside the store.",
                className="lede",
            ),
            html.Div(id=ids.LOADS_TABLE, className="card"),
            html.Section(
                className="card",
                **{"aria-labelledby": "loads-rejected-title"},
                children=[
                    html.H2("Rejected rows", id="loads-rejected-title"),
                    html.Div(
                        className="field",
                        children=[
                            html.Label("Load", htmlFor=ids.LOADS_CHOICE),
                            dcc.Dropdown(id=ids.LOADS_CHOICE, options=[], clearable=False, className="filter-select"),
                        ],
                    ),
                    html.Div(id=ids.LOADS_REJECTED),
                ],
            ),
        ]
    )


def _who(engine: Any) -> dict[int, str]:
    """Who ran each load, from the audit log (loads made before it was recorded are not there)."""
    found: dict[int, str] = {}
    for entry in audit.recent(engine, limit=5000, event="admin_action"):
        detail = entry["detail"] or {}
        if detail.get("action") == "load" and isinstance(detail.get("load_id"), int):
            found.setdefault(detail["load_id"], entry["username"] or "")
    return found


@callbacks(
    Output(ids.LOADS_TABLE, "children"),
    Output(ids.LOADS_CHOICE, "options"),
    Output(ids.LOADS_CHOICE, "value"),
    Input(ids.LOADS_TABLE, "id"),
)
@admin_callback(PATH)
def loads(_id: Any) -> Any:
    svc = services()
    conn = svc.store.cursor()
    try:
        runs = admin.load_runs(conn)
    finally:
        conn.close()
    who = _who(svc.engine)
    frame = runs.with_columns(
        pl.col("load_id").cast(pl.String),
        who=pl.Series([who.get(int(i), "not recorded") for i in runs["load_id"]], dtype=pl.String),
        synthetic=pl.when(pl.col("synthetic")).then(pl.lit("yes")).otherwise(pl.lit("no")),
    )
    columns = [
        ("load_id", "Load"),
        ("finished", "Finished (UTC)"),
        ("who", "By"),
        ("source_name", "File"),
        ("rows_read", "Read"),
        ("rows_new", "New"),
        ("rows_updated", "Updated"),
        ("rows_unchanged", "Unchanged"),
        ("rows_rejected", "Rejected"),
        ("synthetic", "Synthetic"),
    ]
    numeric = ("rows_read", "rows_new", "rows_updated", "rows_unchanged", "rows_rejected")
    options = [
        {"label": f"Load {r['load_id']}: {r['source_name']}", "value": int(r["load_id"])}
        for r in frame.iter_rows(named=True)
    ]
    return (
        table(frame, columns, "Extract loads, newest first", numeric=numeric, limit=500),
        options,
        options[0]["value"] if options else None,
    )


@callbacks(Output(ids.LOADS_REJECTED, "children"), Input(ids.LOADS_CHOICE, "value"))
@admin_callback(PATH)
def rejected(load_id: Any) -> Any:
    if isinstance(load_id, bool) or not isinstance(load_id, int):
        return notice("Choose a load.")
    conn = services().store.cursor()
    try:
        rows = admin.rejected_rows(conn, load_id)
    finally:
        conn.close()
    if rows.height == 0:
        return notice(f"Load {load_id} rejected no rows.")
    frame = rows.with_columns(pl.col("source_row").cast(pl.String))
    return [
        html.P(f"Load {load_id} rejected {rows.height:,} rows (row numbers as in the file, the header being row 1)."),
        table(
            frame,
            [("source_row", "Row"), ("reasons", "Why")],
            f"Rows load {load_id} rejected",
            numeric=(),
            limit=REJECTED_SHOWN,
        ),
    ]

"""Reference data (administrators only): the trusts and sites the app knows,
the trusts with inpatient sites that no CDOP footprint covers today, and the
way to refresh both from ODS files (``dashboard.reference_page``)."""

from __future__ import annotations

from typing import Any

import polars as pl
from dash import Input, Output, dcc, html

from dashboard.auth.admin_gate import admin_callback
from dashboard.callbacks import Callbacks
from dashboard.context import services
from dashboard.reference_page import PATH as ODS_PATH
from dashboard.ui import ids
from dashboard.ui.components import notice, table
from queries import admin

callbacks = Callbacks()
PATH = "/admin/reference"
NAME = "Reference data"
ADMIN_ONLY = True
USES_FILTERS = False


def layout(**_query: Any) -> html.Div:
    return html.Div(
        [
            html.H1("Reference data"),
            html.P(
                "The hospital trusts and sites the app knows. Refresh them from the NHS Organisation Data Service "
                "files: the preview shows what is new, renamed or closed; the refresh itself is applied at the "
                "command line (python app.py reference import-ods --trusts etr.csv --sites ets.csv --apply), "
                "because these tables live in the deaths store, which the web app never writes.",
                className="lede",
            ),
            html.P(dcc.Link("Preview a refresh from ODS files", href=ODS_PATH, refresh=True)),
            html.Div(id=ids.REFERENCE_SUMMARY, className="card"),
        ]
    )


@callbacks(Output(ids.REFERENCE_SUMMARY, "children"), Input(ids.REFERENCE_SUMMARY, "id"))
@admin_callback(PATH)
def summary(_id: Any) -> Any:
    svc = services()
    conn = svc.store.cursor()
    try:
        mapping = svc.mappings.current(conn)
        counts = admin.english_counts(conn)
        inpatient = admin.inpatient_trusts(conn)
    finally:
        conn.close()
    covered = {r.trust_code for r in mapping.footprint if r.covers(svc.today())}
    uncovered = inpatient.filter(~pl.col("trust_code").is_in(list(covered)))
    parts: list[Any] = [
        html.P(
            f"{counts[0]:,} English trusts and {counts[1]:,} English sites; {inpatient.height:,} trusts run "
            "open inpatient hospital sites."
        )
    ]
    if uncovered.height == 0:
        parts.append(notice("Every trust with an inpatient site is in some CDOP's footprint today."))
    else:
        parts.append(
            notice(
                f"{uncovered.height} trusts with inpatient sites are in no CDOP's footprint today: "
                "add them on the Footprint mapping page.",
                "error",
            )
        )
        columns = [("trust_code", "Trust"), ("trust_name", "Name"), ("sites", "Inpatient sites")]
        parts.append(table(uncovered, columns, "Trusts no CDOP footprint covers", numeric=()))
    return parts

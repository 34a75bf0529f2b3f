"""Audit log (administrators only): who signed in, looked at what, and downloaded what."""

from __future__ import annotations

import json
from typing import Any

import polars as pl
from dash import Input, Output, dcc, html

from dashboard.auth.admin_gate import admin_callback
from dashboard.callbacks import Callbacks
from dashboard.context import services
from dashboard.ui import ids
from dashboard.ui.clicks import download_href
from dashboard.ui.components import table
from operational import audit

callbacks = Callbacks()
PATH = "/admin/audit"
NAME = "Audit log"
ADMIN_ONLY = True
USES_FILTERS = False  # the audit log has filters of its own
SHOWN = 500
EVENTS = {
    "": "All events",
    "login": "Sign-ins",
    "login_failed": "Failed sign-ins",
    "login_throttled": "Refused sign-ins (too many failures)",
    "logout": "Sign-outs",
    "page_view": "Page views",
    "download": "Downloads",
    "mark_seen": "Marked What's new as seen",
    "forbidden": "Refused access",
    "rate_limited": "Paused for too many requests",
    "admin_action": "Administrator actions",
    "digest_sent": "E-mail digests sent",
    "digest_failed": "E-mail digests that failed",
    "digest_settings": "Own e-mail digest settings changed",
    "digest_link_sent": "Digest address links sent",
    "digest_verified": "Digest addresses confirmed",
    "saved_view": "Saved views (saved, opened, renamed, deleted, offered)",
}


def layout(**_query: Any) -> html.Div:
    return html.Div(
        [
            html.H1("Audit log"),
            html.P(
                "Every sign-in, failed sign-in, page view (with its filters), download (with its row count) and "
                "refused access, newest first. The log is append-only.",
                className="lede",
            ),
            html.Div(
                className="controls",
                children=[
                    html.Div(
                        className="field",
                        children=[
                            html.Label("Show", htmlFor=ids.AUDIT_EVENT),
                            dcc.Dropdown(
                                id=ids.AUDIT_EVENT,
                                options=[{"label": v, "value": k} for k, v in EVENTS.items()],
                                value="",
                                clearable=False,
                                className="filter-select",
                            ),
                        ],
                    ),
                ],
            ),
            html.Div(id=ids.AUDIT_TABLE, className="card"),
        ]
    )


def events_frame(rows: list[dict[str, Any]]) -> pl.DataFrame:
    return pl.DataFrame(
        {
            "at": [r["at"].strftime("%Y-%m-%d %H:%M:%S") for r in rows],
            "username": [r["username"] or "" for r in rows],
            "event": [r["event"] for r in rows],
            "remote_addr": [r["remote_addr"] or "" for r in rows],
            "detail": [json.dumps(r["detail"], sort_keys=True) if r["detail"] else "" for r in rows],
        },
        schema={
            "at": pl.String,
            "username": pl.String,
            "event": pl.String,
            "remote_addr": pl.String,
            "detail": pl.String,
        },
    )


@callbacks(Output(ids.AUDIT_TABLE, "children"), Input(ids.AUDIT_EVENT, "value"))
@admin_callback(PATH)
def show(event: Any) -> Any:
    chosen = event if isinstance(event, str) and event in EVENTS else ""
    rows = audit.recent(services().engine, limit=SHOWN, event=chosen or None)
    frame = events_frame(rows)
    columns = [
        ("at", "Time (UTC)"),
        ("username", "User"),
        ("event", "Event"),
        ("remote_addr", "Address"),
        ("detail", "Detail"),
    ]
    return [
        html.P(
            [
                f"The latest {frame.height:,} events. ",
                html.A(
                    "Download the whole audit log (CSV)",
                    href=download_href("audit", f"?event={chosen}" if chosen else ""),
                    className="download",
                ),
            ]
        ),
        table(frame, columns, "Audit log, newest first", numeric=(), limit=SHOWN),
    ]

"""CSV downloads: ``GET /download/<name>.csv`` with the page's own query string.

Streamed from the server (never through the browser as base64), login
protected by the gate in ``dashboard.auth.gate``, scoped like every callback, with
formula-like cells escaped, and each one recorded in the audit log.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import date

import polars as pl
from flask import Flask, Response, jsonify, request
from sqlalchemy import Engine

from dashboard import newness, review_tables
from dashboard.auth.admin_gate import admin_route
from dashboard.context import View, opened_view, services, signed_in_user, view_for
from dashboard.ui.text import period_label, slug
from dashboard.urlstate import first
from dashboard.views.audit_log import EVENTS as AUDIT_EVENTS
from dashboard.views.audit_log import events_frame
from operational import audit
from queries import disclosure, report
from queries.export import neutralise_formulas
from queries.flags import AttentionRule

SUPPRESS_BELOW = disclosure.THRESHOLD
# One mark for every hidden cell. Marking counts of 1-4 apart from the cells hidden to protect them
# would let a reader narrow a hidden count: two hidden cells adding to 6, one under 5 and the other
# 5 or more, can only be 1 and 5.
HIDDEN = "[c]"


def _trend(view: View) -> pl.DataFrame:
    grain = first(view.params, "grain")
    split = first(view.params, "split")
    return report.by_period(
        view.conn,
        view.scope,
        view.filters,
        grain if grain in report.TIME_GRAINS else "quarter",
        split if split in TREND_SPLITS else None,
    )


TREND_SPLITS = ("place", "age_group", "residence_group", "review_group")

AGGREGATES: dict[str, Callable[[View], pl.DataFrame]] = {
    "headline": lambda v: report.headline(v.conn, v.scope, v.filters),
    "by-trust": lambda v: report.by_trust(v.conn, v.scope, v.filters),
    "by-trust-and-place": lambda v: report.counts(v.conn, v.scope, v.filters, ["trust", "place"]),
    "by-trust-and-age-group": lambda v: report.counts(v.conn, v.scope, v.filters, ["trust", "age_group"]),
    "by-site": lambda v: report.by_site(v.conn, v.scope, v.filters),
    "by-site-and-age-group": lambda v: report.counts(v.conn, v.scope, v.filters, ["site", "age_group"]),
    "by-place": lambda v: report.by_place(v.conn, v.scope, v.filters),
    "by-age-group": lambda v: report.by_age_group(v.conn, v.scope, v.filters),
    "trust-site-place-age": lambda v: report.by_trust_site_place_age(v.conn, v.scope, v.filters),
    "by-reviewing-cdop": lambda v: report.by_reviewing_cdop(v.conn, v.scope, v.filters),
    "site-by-reviewing-cdop": lambda v: report.by_site_reviewing_cdop(v.conn, v.scope, v.filters),
    "site-by-review-group": lambda v: report.counts(v.conn, v.scope, v.filters, ["site", "review_group"]),
    "site-by-residence-group": lambda v: report.counts(v.conn, v.scope, v.filters, ["site", "residence_group"]),
    "trend": _trend,
    "map-hospitals": lambda v: report.hospitals_table(v.conn, v.scope, v.filters),
    "map-residence": lambda v: report.residence_table(v.conn, v.scope, v.filters),
    "whats-new": newness.csv_frame,  # a list of deaths, not counts: refused for publication (LISTS)
    **review_tables.TABLES,  # the Reviews page's tables: counts with shares beside them
}
DOWNLOADS = ("cases", *AGGREGATES)
LISTS = ("cases", "whats-new")  # lists of deaths: no version of them is fit to publish
AUDIT_PATH = "/download/audit.csv"

Totals = tuple[tuple[str, tuple[str, ...]], ...]


def hidden_cells(frame: pl.DataFrame, totals: Totals | None = None) -> dict[tuple[int, str], str]:
    """(row, column) -> PRIMARY or COMPLEMENTARY for the cells a published copy must hide: counts of
    1-4, and whatever else would let them be worked out by subtraction (``queries.disclosure``).
    ``totals`` (total column, part columns) describe a one-row table whose columns add up, like
    headline; without them the table holds its counts in long form, in ``deaths``."""
    if totals is not None:
        cells = {column: int(frame[column][0]) for column in frame.columns}
        relations = [disclosure.Relation(total, parts) for total, parts in totals]
        # the total of deaths in view is on every page: the reader has it
        hidden = disclosure.suppress(cells, relations, known={"deaths": cells["deaths"]})
        return {(0, str(column)): kind for column, kind in hidden.items()}
    by_row = disclosure.long_table([int(n) for n in frame["deaths"].to_list()])
    return {(row, "deaths"): kind for row, kind in by_row.items()}


def for_publication(frame: pl.DataFrame, totals: Totals | None = None) -> pl.DataFrame:
    """The frame with its hidden cells shown as '[c]': counts of 1-4, and the cells hidden so that
    none of those can be worked out (a larger count or a total); 0 stays 0."""
    hidden = hidden_cells(frame, totals)
    columns = sorted({column for _, column in hidden}, key=frame.columns.index)
    return frame.with_columns(
        pl.Series(
            column,
            [HIDDEN if (row, column) in hidden else str(value) for row, value in enumerate(frame[column].to_list())],
            dtype=pl.String,
        )
        for column in columns
    )


def publication_copy(name: str, frame: pl.DataFrame) -> pl.DataFrame:
    """The download ``name``'s frame as published: the Reviews page's share tables by their own
    rule (``review_tables.for_publication``), the headline by its columns' totals, the rest as
    long tables of deaths. Raises ``disclosure.Unprotectable`` as ``for_publication`` does."""
    if name in review_tables.TABLES:
        return review_tables.for_publication(name, frame)
    return for_publication(frame, report.HEADLINE_TOTALS if name == "headline" else None)


def csv_text(frame: pl.DataFrame, header: bool = True) -> str:
    return neutralise_formulas(frame).write_csv(include_header=header, date_format="%Y-%m-%d")


def filename(view: View, name: str, extension: str = "csv") -> str:
    period = period_label(view.filters, view.options)
    if name == "whats-new":  # a weekly record is named by the period it covers and the day it was taken
        period = newness.since_of(view)[0].param or "since-last-visit"
    who = view.scope.cdop_codes[0] if len(view.scope.cdop_codes) == 1 else slug(view.scope.label)
    return f"{who}_{name}_{slug(period)}_{date.today():%Y%m%d}.{extension}"


def register(server: Flask) -> None:
    @server.get("/download/<name>.csv")
    def download(name: str) -> Response | tuple[Response, int]:
        if name not in DOWNLOADS:
            return jsonify(error=f"no download called {name!r}"), 404
        search = request.query_string.decode("utf-8", "replace")
        if name == "cases":
            return _case_list(search)
        with opened_view(search) as view:
            suppress = first(view.params, "suppress") == "1"
            if suppress and name in LISTS:
                return _not_for_publication()
            headers, detail = _headers(view, name), _detail(view, name, suppress)
            try:
                frame = AGGREGATES[name](view)
            except newness.BadSince as error:
                return jsonify(error=str(error)), 400
        if suppress:
            try:
                frame = publication_copy(name, frame)
            except disclosure.Unprotectable:
                return jsonify(error="this table's small counts cannot all be hidden: choose fewer filters"), 400
        user = view.user.username
        audit.record(services().engine, "download", user, request.remote_addr, rows=frame.height, **detail)
        return Response(csv_text(frame), mimetype="text/csv", headers=headers)

    # a rule of its own (Werkzeug tries it before the pattern above), so that it can be marked
    @server.get(AUDIT_PATH)
    @admin_route(AUDIT_PATH, _audit_refused)
    def audit_download() -> Response:
        return _audit_log()


def _case_list(search: str) -> Response | tuple[Response, int]:
    """The case list, streamed: it is read after this handler has returned, so its
    view is closed by the stream (``_stream_cases``), not by a ``with`` block here."""
    view = view_for(search)
    if first(view.params, "suppress") == "1":
        view.close()
        return _not_for_publication()
    headers, detail = _headers(view, "cases"), _detail(view, "cases", False)
    rule = newness.rule_for(view)
    stream = _stream_cases(view, rule, services().engine, view.user.username, request.remote_addr, detail)
    return Response(stream, mimetype="text/csv", headers=headers)


def _not_for_publication() -> tuple[Response, int]:
    return jsonify(error="a list of deaths has no version fit to publish: ask for a table of counts"), 400


def _headers(view: View, name: str) -> dict[str, str]:
    return {
        "Content-Disposition": f'attachment; filename="{filename(view, name)}"',
        "Cache-Control": "no-store",
        "X-Content-Type-Options": "nosniff",
    }


def _detail(view: View, name: str, suppress: bool) -> dict[str, object]:
    """What the audit log records of a download, beside its row count."""
    return {"view": name, "query": view.query(), "scope": view.scope.label, "suppressed": suppress}


def _audit_refused() -> tuple[Response, int]:
    return jsonify(error="the audit log is for NCMD administrators"), 403


def _audit_log() -> Response:
    """The whole audit log as CSV, for administrators only (``register`` marks its route)."""
    svc = services()
    user = signed_in_user()
    event = request.args.get("event") or None
    rows = audit.recent(svc.engine, limit=1_000_000, event=event if event in AUDIT_EVENTS else None)
    frame = events_frame(rows)
    audit.record(svc.engine, "download", user.username, request.remote_addr, view="audit", rows=frame.height)
    headers = {
        "Content-Disposition": f'attachment; filename="audit-log_{date.today():%Y%m%d}.csv"',
        "Cache-Control": "no-store",
    }
    return Response(csv_text(frame), mimetype="text/csv", headers=headers)


def _stream_cases(
    view: View, rule: AttentionRule, engine: Engine, user: str, remote: str | None, detail: dict[str, object]
) -> Iterator[str]:
    """Runs after the request handler has returned: everything it needs is passed in."""
    rows = 0
    try:
        header = True
        for batch in report.iter_cases(view.conn, view.scope, view.filters, rule=rule):
            rows += batch.height
            yield csv_text(batch, header=header)
            header = False
        if header:  # no rows at all: still a header
            yield csv_text(report.case_list(view.conn, view.scope, view.filters, limit=0))
    finally:
        view.close()
        audit.record(engine, "download", user, remote, rows=rows, **detail)

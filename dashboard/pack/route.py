"""``GET /download/pack.xlsx?page=/trusts&<the page's query>``: the panel pack of one report page,
or of every one with ``pages=all``; ``suppress=1`` for the version fit to publish.

Scoped like every download (the page's query is cleaned by ``view_for``), login protected by the
gate, limited like the CSVs (``dashboard.auth.rate_limits``) and recorded in the audit log.
"""

from __future__ import annotations

import io
from datetime import UTC, datetime

from flask import Flask, Response, jsonify, request

from dashboard.context import opened_view, services
from dashboard.downloads import filename
from dashboard.pack.cover import cover_for
from dashboard.pack.tables import count, pages_for
from dashboard.pack.workbook import write
from dashboard.urlstate import first
from operational import audit
from queries import disclosure

PACK_PATH = "/download/pack.xlsx"
ENDPOINT = "pack_download"
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def register(server: Flask) -> None:
    @server.get(PACK_PATH, endpoint=ENDPOINT)
    def pack_download() -> Response | tuple[Response, int]:
        every = request.args.get("pages")
        if every not in (None, "all"):
            return jsonify(error="pages= takes only 'all'"), 400
        path = request.args.get("page", "/")
        pages = pages_for(path, every == "all")
        if not pages:  # the address is not echoed: it is the client's text
            return jsonify(error="that page has no tables for a pack"), 404
        search = request.query_string.decode("utf-8", "replace")
        made_at = datetime.now(UTC)
        with opened_view(search) as view:
            suppress = first(view.params, "suppress") == "1"
            try:
                tables = [count(view, page, spec, suppress) for page in pages for spec in page.PACK]
            except disclosure.Unprotectable:
                return jsonify(error="a table's small counts cannot all be hidden: choose fewer filters"), 400
            cover = cover_for(view, pages, suppress, made_at)
            name = filename(view, "pack" if every is None else "pack-all", "xlsx")
            detail = {
                "view": "pack",
                "pages": [page.PATH for page in pages],
                "query": view.query(),
                "scope": view.scope.label,
                "suppressed": suppress,
            }
        buffer = io.BytesIO()
        sheets = write(buffer, cover, tables)
        rows = sum(len(table.rows) for table in tables)
        audit.record(
            services().engine,
            "download",
            view.user.username,
            request.remote_addr,
            rows=rows,
            sheets=len(sheets),
            **detail,
        )
        headers = {
            "Content-Disposition": f'attachment; filename="{name}"',
            "Cache-Control": "no-store",
            "X-Content-Type-Options": "nosniff",
        }
        return Response(buffer.getvalue(), mimetype=XLSX, headers=headers)

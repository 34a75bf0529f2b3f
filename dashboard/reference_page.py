"""The ODS refresh preview (administrators only): upload etr.csv and ets.csv
and see what they would change, and which trusts with inpatient sites no CDOP
covers. A plain HTML form, not a Dash callback: ets.csv is several megabytes,
far over the callback size limit, so only this route accepts a larger body.

Nothing is written here. The refresh is applied with ``python app.py reference
import-ods --apply``: the reference tables live in the DuckDB deaths store, which
the web workers never write.
"""

from __future__ import annotations

from typing import Any

from flask import Flask, render_template, request
from flask_login import current_user

from dashboard.auth.admin_gate import admin_route, is_admin
from dashboard.context import services
from ingest import ods
from operational import audit

PATH = "/admin/reference/ods"
MAX_UPLOAD_BYTES = 2 * ods.MAX_BYTES
TEMPLATE = "reference_ods.html"  # in dashboard/templates/


def register(server: Flask) -> None:
    @server.before_request
    def allow_ods_uploads() -> None:
        # registered before the CSRF check reads the form, so the larger limit applies to it
        if request.path == PATH and request.method == "POST" and is_admin():
            request.max_content_length = MAX_UPLOAD_BYTES

    @server.get(PATH)
    @admin_route(PATH, _refused)
    def ods_form() -> Any:
        return _page()

    @server.post(PATH)
    @admin_route(PATH, _refused)
    def ods_preview() -> Any:
        trusts_file, sites_file = request.files.get("trusts"), request.files.get("sites")
        if trusts_file is None or sites_file is None or not trusts_file.filename or not sites_file.filename:
            return _page(error="Choose both files: etr.csv (trusts) and ets.csv (sites)."), 400
        svc = services()
        conn = svc.store.cursor()
        try:
            trusts = ods.read_ods(trusts_file.read(), "trusts")
            sites = ods.read_ods(sites_file.read(), "sites")
            found = ods.diff(conn, trusts, sites, svc.mappings.current(conn), svc.today())
        except ods.OdsUnusable as error:
            return _page(error=f"Nothing was read: {error}."), 400
        finally:
            conn.close()
        audit.record(
            svc.engine,
            "admin_action",
            current_user.account.username,
            request.remote_addr,
            action="reference preview",
            trusts_file=str(trusts_file.filename)[:200],
            sites_file=str(sites_file.filename)[:200],
        )
        return _page(found=found, names=(str(trusts_file.filename), str(sites_file.filename)))


def _refused() -> Any:
    return render_template(TEMPLATE, refused=True), 403


def _page(error: str | None = None, found: ods.OdsDiff | None = None, names: tuple[str, str] = ("", "")) -> str:
    return render_template(TEMPLATE, refused=False, error=error, found=found, names=names, path=PATH)

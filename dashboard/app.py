"""Building the Dash app: Flask server, login, pages, downloads."""

from __future__ import annotations

from typing import Any

import dash
from dash.exceptions import DependencyException
from flask import Flask, jsonify, request
from werkzeug.exceptions import HTTPException

from dashboard import delivery, fast_json, health
from dashboard.auth import init_auth
from dashboard.auth.rate_limits import init_rate_limits
from dashboard.auth.security import init_security
from dashboard.context import NoFootprint, Services
from operational import accounts
from operational import tables as operational
from operational.database import UNAVAILABLE
from queries.deaths_store import DeathsStore
from queries.scope import cdops_in_force
from queries.store import StoreUnavailable
from settings import PROJECT_DIR, Settings, secret_key

INDEX = """<!DOCTYPE html>
<html lang="en">
<head>
{%metas%}
<title>{%title%}</title>
{%favicon%}
{%css%}
PRELOADS
</head>
<body>
{%app_entry%}
{%config%}
EARLY_SCRIPTS
{%scripts%}
{%renderer%}
</body>
</html>"""


def create_app(settings: Settings) -> dash.Dash:
    settings.data_dir.mkdir(parents=True, exist_ok=True)
    fast_json.install()
    svc = Services(
        settings=settings, store=DeathsStore(settings.store_path), engine=operational.connect(settings.operational_url)
    )
    demo = _sync_demo_users(svc)
    refusal = settings.refusal(synthetic=demo)
    if refusal:
        raise SystemExit(refusal)
    server = Flask("dashboard")
    server.config.update(SECRET_KEY=secret_key(settings))
    server.config.update(delivery.COMPRESSION)  # flask-compress reads it when Dash's compress=True starts it
    server.extensions["cdop"] = svc
    init_auth(server, svc)
    health.register(server, svc)

    from dashboard import downloads, reference_page, saved_open, shell, verify_address
    from dashboard.pack import route as pack_route
    from dashboard.ui import filter_bar, grid_code, saved_views
    from dashboard.views import VIEWS

    app = dash.Dash(
        __name__,
        server=server,
        assets_folder=str(PROJECT_DIR / "assets"),
        title="Deaths by hospital trust",
        update_title=None,
        suppress_callback_exceptions=True,
        serve_locally=True,
        compress=True,
        assets_path_ignore=[delivery.EARLY_FOLDER],  # linked ahead of Dash's scripts instead
    )
    delivery.init(server, app)
    app.index_string = INDEX.replace("PRELOADS", delivery.preload_links(app)).replace(
        "EARLY_SCRIPTS", delivery.early_scripts(app)
    )
    grid_code.defer()  # AG Grid's code is loaded by the case list alone, not by every page
    app.layout = shell.layout
    shell.callbacks.register(app)
    filter_bar.callbacks.register(app)
    saved_views.callbacks.register(app)
    for view in VIEWS:
        view.callbacks.register(app)
    downloads.register(server)
    verify_address.register(server)
    pack_route.register(server)
    saved_open.register(server)
    reference_page.register(server)  # before init_security: its size limit must precede the CSRF check
    init_rate_limits(server, svc.engine, settings)  # after the routes it limits are registered
    init_security(server, app, settings)  # last: the CSP hashes every inline script registered above

    @server.errorhandler(Exception)
    def unexpected(error: Exception) -> Any:
        """No traceback ever reaches a browser. A callback request that Dash
        cannot even route (forged outputs, wrong shapes) is the client's fault."""
        if isinstance(error, HTTPException):  # handled by security.http_error
            return error
        server.logger.exception("unhandled error on %s", request.path)
        if request.path.startswith("/_dash-update-component"):
            return jsonify(error="bad callback request"), 400
        return jsonify(error="something went wrong; it has been logged"), 500

    @server.errorhandler(DependencyException)
    def missing_asset(_error: DependencyException) -> tuple[object, int]:
        """A component-suite file that Dash does not serve: nothing more to say than 404."""
        return jsonify(error="no such file"), 404

    @server.errorhandler(NoFootprint)
    def no_footprint(error: NoFootprint) -> tuple[object, int]:
        return jsonify(error=str(error)), 403

    @server.errorhandler(StoreUnavailable)
    def store_unavailable(error: StoreUnavailable) -> tuple[object, int]:
        # where the store is, and why it cannot be read, is for the log, not the browser
        server.logger.warning("the deaths store is unavailable: %s", str(error).splitlines()[0])
        return jsonify(error="the deaths store is unavailable"), 503

    def operational_unavailable(error: Exception) -> tuple[object, int]:
        # sessions, sign-ins and the audit log live there: nothing is served, nobody is signed in,
        # until it answers again (each worker's pool then makes new connections by itself)
        server.logger.warning("the operational store is unavailable: %s", str(error).splitlines()[0][:300])
        return jsonify(error="the service is unavailable; try again in a moment"), 503

    for unavailable in UNAVAILABLE:
        server.register_error_handler(unavailable, operational_unavailable)

    _first_request_now(server)
    return app


def _first_request_now(server: Flask) -> None:
    """Run what Dash does on an app's first request now, before any request arrives. Dash sets
    itself up then (``Dash._setup_server``, a ``before_request`` hook: among others it lists the
    files it will serve), and marks that done before it is, so requests on other threads in the
    meantime are refused its own scripts (404). One of gunicorn's workers may well get its first
    requests all at once: the page they come from was served by another worker."""
    with server.test_request_context("/healthz"):  # public: the sign-in gate lets it through
        server.preprocess_request()


def _sync_demo_users(svc: Services) -> bool:
    """Demo users exist only while the store holds synthetic data. True in demo mode."""
    try:
        conn = svc.store.cursor()
    except StoreUnavailable:
        return False
    try:
        synthetic = svc.store.facts().synthetic
        # the managed mapping (seeded here on first start): a CDOP formed by a merger gets its demo user
        codes = [code for code, _ in cdops_in_force(conn, svc.today(), svc.mappings.current(conn))]
    finally:
        conn.close()
    accounts.sync_demo_users(svc.engine, codes, demo_mode=synthetic)
    return synthetic

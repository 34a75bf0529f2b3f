"""HTTP hardening: security headers and CSP, CSRF, cookies, request limits, error pages."""

from __future__ import annotations

from typing import Any

import dash
from flask import Flask, jsonify, render_template_string, request
from flask.sessions import SecureCookieSessionInterface
from flask_talisman import Talisman
from flask_wtf.csrf import CSRFError, CSRFProtect
from werkzeug.exceptions import HTTPException
from werkzeug.middleware.proxy_fix import ProxyFix
from werkzeug.serving import WSGIRequestHandler

from settings import Settings

MAX_BODY_BYTES = 1_000_000  # callback bodies are a few kB; a CSV upload is not a thing here
MAX_QUERY_BYTES = 4_000
MAX_URL_PATH = 512


SERVER_BANNER = "dashboard"  # what the Server header says: no product, no versions


class BannerlessRequestHandler(WSGIRequestHandler):
    """The built-in server's requests, without Werkzeug's and Python's names and
    versions in the Server header (they tell an attacker what to look up)."""

    def version_string(self) -> str:
        return SERVER_BANNER


class CookieSecureWhenHttps(SecureCookieSessionInterface):
    """The session cookie is marked Secure whenever the request came over HTTPS
    (directly, or through a trusted proxy), so it is never sent in clear."""

    def get_cookie_secure(self, app: Flask) -> bool:
        return bool(app.config.get("SESSION_COOKIE_SECURE")) or request.is_secure


def content_security_policy(app: dash.Dash) -> dict[str, Any]:
    """A CSP Dash works under: scripts only from this server plus the hashes
    of Dash's own inline scripts; plotly needs inline styles."""
    return {
        "default-src": "'self'",
        "script-src": ["'self'", *app.csp_hashes()],
        "style-src": ["'self'", "'unsafe-inline'"],
        "img-src": ["'self'", "data:", "blob:"],
        "font-src": ["'self'", "data:"],
        "connect-src": "'self'",
        "worker-src": ["'self'", "blob:"],
        "object-src": "'none'",
        "base-uri": "'self'",
        "form-action": "'self'",
        "frame-ancestors": "'none'",
    }


def init_security(server: Flask, app: dash.Dash, settings: Settings) -> None:
    server.config.update(
        SESSION_COOKIE_HTTPONLY=True,
        SESSION_COOKIE_SAMESITE="Lax",
        SESSION_COOKIE_NAME="cdop_session",
        MAX_CONTENT_LENGTH=MAX_BODY_BYTES,
        WTF_CSRF_TIME_LIMIT=None,  # the token lives as long as the session that holds it
    )
    server.session_interface = CookieSecureWhenHttps()
    if settings.trusted_proxy:
        server.wsgi_app = ProxyFix(server.wsgi_app, x_for=1, x_proto=1)  # type: ignore[method-assign]

    csrf = CSRFProtect(server)
    # Dash's callbacks post JSON, which a cross-site form cannot send, and the
    # session cookie is SameSite=Lax; forms (login, logout, admin) carry tokens.
    csrf.exempt("dash.dash.dispatch")

    Talisman(
        server,
        force_https=False,
        session_cookie_secure=False,  # decided per request by CookieSecureWhenHttps
        frame_options="DENY",
        content_security_policy=content_security_policy(app),
        referrer_policy="strict-origin-when-cross-origin",
        permissions_policy={"geolocation": "()", "camera": "()", "microphone": "()", "browsing-topics": "()"},
    )

    @server.before_request
    def limit_request_size() -> Any:
        if len(request.query_string) > MAX_QUERY_BYTES or len(request.path) > MAX_URL_PATH:
            return _error(414, "That address is too long.")
        return None

    @server.errorhandler(CSRFError)
    def csrf_failed(_exc: CSRFError) -> Any:
        return _error(400, "This form has expired. Go back, reload the page and try again.")

    @server.errorhandler(HTTPException)
    def http_error(error: HTTPException) -> Any:
        return _error(error.code or 500, MESSAGES.get(error.code or 500, error.description or "Request refused."))


MESSAGES = {
    400: "The request could not be understood.",
    403: "You do not have access to this page.",
    404: "There is no page at this address.",
    405: "That method is not allowed here.",
    413: "That request is too large.",
    414: "That address is too long.",
    429: "Too many requests. Wait a moment and try again.",
}

ERROR_PAGE = """<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>{{ code }} · Deaths by hospital trust</title><link rel="stylesheet" href="/assets/style.css"></head>
<body class="login-body"><main class="login" id="main"><h1>{{ title }}</h1><p>{{ message }}</p>
<p><a href="/">Go to the overview</a></p></main></body></html>"""


def _error(code: int, message: str) -> Any:
    """JSON for the app's own requests, a small page for a person's browser."""
    if request.path.startswith(("/_dash-", "/download/")) or request.is_json:
        return jsonify(error=message), code
    title = {404: "Page not found", 403: "Access denied", 429: "Too many requests"}.get(code, "Something is wrong")
    return render_template_string(ERROR_PAGE, code=code, title=title, message=message), code

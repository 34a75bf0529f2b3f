"""HTTP hardening, assembled: cookies, CSRF, request-size limits, then the
error pages (``errors``) and the security headers (``headers``)."""

from __future__ import annotations

from typing import Any

import dash
from flask import Flask, request
from flask.sessions import SecureCookieSessionInterface
from flask_wtf.csrf import CSRFProtect
from werkzeug.middleware.proxy_fix import ProxyFix

from dashboard.auth.errors import error_response, init_errors
from dashboard.auth.headers import init_headers
from settings import Settings

MAX_BODY_BYTES = 1_000_000  # callback bodies are a few kB; a CSV upload is not a thing here
MAX_QUERY_BYTES = 4_000
MAX_URL_PATH = 512


class CookieSecureWhenHttps(SecureCookieSessionInterface):
    """The session cookie is marked Secure whenever the request came over HTTPS
    (directly, or through a trusted proxy), so it is never sent in clear."""

    def get_cookie_secure(self, app: Flask) -> bool:
        return bool(app.config.get("SESSION_COOKIE_SECURE")) or request.is_secure


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

    init_headers(server, app)

    @server.before_request
    def limit_request_size() -> Any:
        if len(request.query_string) > MAX_QUERY_BYTES or len(request.path) > MAX_URL_PATH:
            return error_response(414, "That address is too long.")
        return None

    init_errors(server)

"""Security headers: the Content Security Policy, framing, referrer and
permissions policies (by flask-talisman), and a Server header that names no
product or version."""

from __future__ import annotations

from typing import Any

import dash
from flask import Flask
from flask_talisman import Talisman
from werkzeug.serving import WSGIRequestHandler

SERVER_BANNER = "dashboard"  # what the Server header says: no product, no versions


class BannerlessRequestHandler(WSGIRequestHandler):
    """The built-in server's requests, without Werkzeug's and Python's names and
    versions in the Server header (they tell an attacker what to look up)."""

    def version_string(self) -> str:
        return SERVER_BANNER


def content_security_policy(app: dash.Dash) -> dict[str, Any]:
    """A CSP Dash works under: scripts only from this server plus the hashes
    of Dash's own inline scripts (the sign-in templates have none); plotly needs inline styles."""
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


def init_headers(server: Flask, app: dash.Dash) -> None:
    """Once every inline script is registered: the CSP hashes them as they are now."""
    Talisman(
        server,
        force_https=False,
        session_cookie_secure=False,  # decided per request by security.CookieSecureWhenHttps
        frame_options="DENY",
        content_security_policy=content_security_policy(app),
        referrer_policy="strict-origin-when-cross-origin",
        permissions_policy={"geolocation": "()", "camera": "()", "microphone": "()", "browsing-topics": "()"},
    )

"""Who may use the web app, and how it defends itself: one small module per concern.

- ``gate``: the sign-in gate in front of every route, and who counts as signed in
- ``signin``: the sign-in, sign-out and password pages (a Blueprint, templates in ``templates/auth/``)
- ``security``: cookies, CSRF and request-size limits; ``headers``: security headers and the CSP;
  ``errors``: the error pages
- ``rate_limits``: per-user limits on callbacks and downloads
- ``redirect_target``: where a person may be sent after signing in
- ``admin_gate``: administrators-only callbacks and routes, marked once each
"""

from __future__ import annotations

from flask import Flask

from dashboard.auth import signin
from dashboard.auth.gate import demo_mode, init_gate
from dashboard.context import Services

__all__ = ["demo_mode", "init_auth"]


def init_auth(server: Flask, svc: Services) -> None:
    """The gate first (it must run before any page), then the pages it lets through."""
    init_gate(server, svc)
    server.register_blueprint(signin.blueprint)

"""Who may use the web app, and how it defends itself.

Signing in and out, the sign-in gate, the password pages, security headers,
CSRF, request and rate limits, error pages, and the administrators-only gate.
"""

from __future__ import annotations

from dashboard.auth.signin import demo_mode, init_auth

__all__ = ["demo_mode", "init_auth"]

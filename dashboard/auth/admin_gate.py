"""The check every administrator-only callback makes first.

The router never shows an admin page to anyone else, but a callback can be
called directly: a non-administrator gets nothing, and the attempt is audited.
"""

from __future__ import annotations

from dash.exceptions import PreventUpdate
from flask import request

from dashboard import audit
from dashboard.accounts import User
from dashboard.context import services, signed_in_user


def admin_or_refuse(page: str) -> User:
    user = signed_in_user()
    if not user.is_admin:
        audit.record(services().engine, "forbidden", user.username, request.remote_addr, page=page)
        raise PreventUpdate
    return user

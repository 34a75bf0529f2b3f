"""Administrators only, declared once at each callback and route that needs it.

The router never shows an admin page to anyone else, but a callback or a route
can be called directly. So each administrator-only callback is marked with
``@admin_callback(PAGE)`` (under its ``@callbacks(...)``) and each route with
``@admin_route(PAGE, refused)`` (under its ``@server.get(...)``): the mark
applies the check, and anyone else gets nothing (a callback) or 403 (a route),
and the attempt is audited as ``forbidden``. ``marked_callbacks`` and
``marked_routes`` list what is marked, for the test that walks every callback
and route of the app (tests/test_admin_only.py).
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any, TypeVar

import dash
from dash.exceptions import PreventUpdate
from flask import Flask, request
from flask_login import current_user

from dashboard.context import services
from operational import audit

F = TypeVar("F", bound=Callable[..., Any])
MARK = "admin_only_page"  # the attribute that marks a function, naming the page it is refused as


def is_admin() -> bool:
    return bool(current_user.is_authenticated and current_user.account.is_admin)


def admin_allowed(page: str) -> bool:
    """True for an administrator; for anyone else, records the attempt on ``page`` and gives False."""
    if is_admin():
        return True
    username = current_user.account.username if current_user.is_authenticated else None
    audit.record(services().engine, "forbidden", username, request.remote_addr, page=page)
    return False


def _marked(gated: F, page: str) -> F:
    setattr(gated, MARK, page)  # copied by functools.wraps onto Dash's and flask-limiter's wrappers
    return gated


def admin_callback(page: str) -> Callable[[F], F]:
    """Mark a Dash callback as administrators only: anyone else gets no update (204)."""

    def mark(callback: F) -> F:
        @functools.wraps(callback)
        def gated(*args: Any, **kwargs: Any) -> Any:
            if not admin_allowed(page):
                raise PreventUpdate
            return callback(*args, **kwargs)

        return _marked(gated, page)  # type: ignore[arg-type]

    return mark


def admin_route(page: str, refused: Callable[[], Any]) -> Callable[[F], F]:
    """Mark a Flask route as administrators only: anyone else gets ``refused()``, which answers 403."""

    def mark(view: F) -> F:
        @functools.wraps(view)
        def gated(*args: Any, **kwargs: Any) -> Any:
            if not admin_allowed(page):
                return refused()
            return view(*args, **kwargs)

        return _marked(gated, page)  # type: ignore[arg-type]

    return mark


def marked_callbacks(app: dash.Dash) -> dict[str, str]:
    """Each marked callback's output (as ``/_dash-dependencies`` names it) and the page it is refused as."""
    found = {output: getattr(spec.get("callback"), MARK, None) for output, spec in app.callback_map.items()}
    return {output: page for output, page in found.items() if page is not None}


def marked_routes(server: Flask) -> dict[str, str]:
    """Each marked route's endpoint and the page it is refused as."""
    found = {endpoint: getattr(view, MARK, None) for endpoint, view in server.view_functions.items()}
    return {endpoint: page for endpoint, page in found.items() if page is not None}

"""The sign-in gate in front of every route, and who counts as signed in.

flask-login keeps only a session token in the cookie; the operational store
says on every request whether that session is still live (``dashboard.signed_in``),
so an ended session, a disabled user or a demo account outside the demo is
refused at once, in every worker.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any
from urllib.parse import quote

from flask import Flask, jsonify, redirect, request
from flask_login import LoginManager, UserMixin, current_user

from dashboard.context import Services
from operational import sessions, signed_in
from operational.accounts import User
from queries.store import StoreUnavailable

PUBLIC_PREFIXES = ("/assets/", "/_dash-component-suites/")
PUBLIC_PATHS = {"/login", "/_favicon.ico", "/favicon.ico", "/healthz"}
PASSWORD_PATH = "/password"  # noqa: S105 - a route, not a secret
API_PREFIXES = ("/_dash-", "/download/", "/_reload-hash", "/_alive")


class SignedIn(UserMixin):
    """flask-login's view of a signed-in account. Its id is the session token,
    which the operational store can end at any time."""

    def __init__(self, account: User, token: str, mapping_version: int | None = None) -> None:
        self.account = account
        self.token = token
        self.mapping_version = mapping_version  # read with the session (dashboard.signed_in)

    def get_id(self) -> str:
        return self.token


def session_policy(svc: Services) -> sessions.SessionPolicy:
    return sessions.SessionPolicy(
        idle=timedelta(minutes=svc.settings.session_idle_minutes),
        lifetime=timedelta(hours=svc.settings.session_max_hours),
    )


def demo_mode(svc: Services) -> bool:
    """Whether the deaths store holds the synthetic demo (its demo accounts may sign in only then)."""
    try:
        return svc.store.facts().synthetic
    except StoreUnavailable:
        return False


def init_gate(server: Flask, svc: Services) -> None:
    """Resume the session on each request, and refuse whoever is not signed in."""
    manager = LoginManager()
    manager.init_app(server)
    manager.session_protection = None  # sessions are checked server-side on every request
    policy = session_policy(svc)

    @manager.user_loader
    def load(token: str) -> SignedIn | None:
        asking = signed_in.resume(svc.engine, token, policy)
        if asking is None:
            return None
        account = asking.user
        if not account.active or (account.demo and not demo_mode(svc)):
            return None
        return SignedIn(account, token, asking.mapping_version)

    @server.before_request
    def require_login() -> Any:
        path = request.path
        if path in PUBLIC_PATHS or path.startswith(PUBLIC_PREFIXES):
            return None
        if current_user.is_authenticated:
            if not current_user.account.must_change_password or path in (PASSWORD_PATH, "/logout"):
                return None
            # an administrator reset the password: nothing else until the user has chosen their own
            if path.startswith(API_PREFIXES):
                return jsonify(error="choose a new password first"), 403
            return redirect(PASSWORD_PATH)
        if path.startswith(API_PREFIXES):
            return jsonify(error="sign in first"), 401
        return redirect(f"/login?next={quote(request.full_path.rstrip('?'), safe='')}")

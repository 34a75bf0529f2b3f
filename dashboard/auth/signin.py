"""Signing in and out, and the gate in front of every route."""

from __future__ import annotations

from datetime import timedelta
from typing import Any
from urllib.parse import quote

from flask import Flask, Response, jsonify, make_response, redirect, render_template_string, request, session
from flask_login import LoginManager, UserMixin, current_user, login_user, logout_user
from flask_wtf.csrf import generate_csrf

from dashboard import accounts, audit, sessions, signed_in, throttle
from dashboard.accounts import User
from dashboard.auth.redirect_target import local_target
from dashboard.context import Services
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


def init_auth(server: Flask, svc: Services) -> None:
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

    @server.get("/login")
    def login_page() -> str:
        return _login_form(svc)

    @server.post("/login")
    def login() -> Any:
        username = str(request.form.get("username", "")).strip().lower()[:64]
        password = str(request.form.get("password", ""))[:256]
        address = request.remote_addr
        refusal = throttle.check(svc.engine, username, address)
        if refusal is not None:
            audit.record(svc.engine, "login_throttled", username or None, address, reason=refusal.reason)
            response = make_response(_login_form(svc, error=_throttled_message(refusal)), 429)
            response.headers["Retry-After"] = str(refusal.retry_after)
            return response
        demo = demo_mode(svc)
        account = None
        if username and password:
            account = accounts.authenticate(svc.engine, username, password, demo_mode=demo)
        if account is not None and account.demo and not demo:
            account = None
        if account is None:
            audit.record(svc.engine, "login_failed", username or None, address)
            return _login_form(svc, error="That username and password do not match an active account."), 401
        if current_user.is_authenticated:  # signing in again in this browser ends the session it replaces
            sessions.end(svc.engine, current_user.token, "replaced")
        session.clear()  # a fresh session at sign-in: nothing from before survives (no fixation)
        login_user(SignedIn(account, sessions.start(svc.engine, account.id)))
        audit.record(svc.engine, "login", account.username, address)
        if account.must_change_password:
            return redirect(PASSWORD_PATH)
        return redirect(local_target(request.args.get("next")))

    @server.get(PASSWORD_PATH)
    def password_page() -> str:
        return _password_form()

    @server.post(PASSWORD_PATH)
    def change_password() -> Any:
        account = current_user.account
        current = str(request.form.get("current", ""))[:256]
        new = str(request.form.get("new", ""))[:256]
        if accounts.authenticate(svc.engine, account.username, current) is None:
            return _password_form("Your current password is not right."), 400
        if new != str(request.form.get("confirm", ""))[:256]:
            return _password_form("The two new passwords differ."), 400
        if new == current:
            return _password_form("Choose a password different from the one you were given."), 400
        try:
            accounts.set_password(svc.engine, account.username, new)  # ends every session of this user
        except accounts.AccountError as error:
            return _password_form(f"{str(error).capitalize()}."), 400
        audit.record(svc.engine, "admin_action", account.username, request.remote_addr, action="changed own password")
        logout_user()
        session.clear()
        return redirect("/login?changed=1")

    @server.post("/logout")
    def logout() -> Response:
        if current_user.is_authenticated:
            sessions.end(svc.engine, current_user.token, "logout")
            audit.record(svc.engine, "logout", current_user.account.username, request.remote_addr)
        logout_user()
        session.clear()
        return redirect("/login")

    @server.get("/healthz")
    def health() -> Response:
        """For load balancers and the page's own check: a word, nothing about the server."""
        try:
            svc.store.facts()
        except StoreUnavailable as error:
            server.logger.warning("health check: the deaths store is unavailable: %s", str(error).splitlines()[0])
            return Response("unavailable", status=503, mimetype="text/plain", headers={"Cache-Control": "no-store"})
        return Response("ok", mimetype="text/plain", headers={"Cache-Control": "no-store"})


def demo_mode(svc: Services) -> bool:
    try:
        return svc.store.facts().synthetic
    except StoreUnavailable:
        return False


def _throttled_message(refusal: throttle.Refusal) -> str:
    wait = refusal.retry_after
    when = f"{wait} seconds" if wait < 120 else f"{(wait + 59) // 60} minutes"
    if refusal.reason == "address":
        return f"Too many failed sign-ins from this network. Try again in {when}, or ask your administrator."
    return (
        f"Too many failed sign-ins for this username from elsewhere. Try again in {when}; from a computer you "
        "have signed in on before you can sign in now."
    )


LOGIN_TEMPLATE = """<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>Sign in · Deaths by hospital trust</title>
<link rel="stylesheet" href="/assets/style.css">
</head>
<body class="login-body">
<main class="login" id="main">
  <p class="brand-kicker">Child Death Overview Panels</p>
  <h1>Deaths by hospital trust</h1>
  {% if demo %}
  <div class="synthetic-banner" role="note">Synthetic data: this is a demonstration. Every death it shows is
  made up; no real child's information is here.</div>
  {% endif %}
  {% if error %}<div class="notice error" role="alert">{{ error }}</div>{% endif %}
  {% if changed %}<div class="notice" role="status">Your password has been changed: sign in with it.</div>{% endif %}
  <form method="post" action="/login{{ next_query }}" class="login-form">
    <input type="hidden" name="csrf_token" value="{{ csrf_token }}">
    <label for="username">Username</label>
    <input id="username" name="username" autocomplete="username" required autofocus maxlength="64">
    <label for="password">Password</label>
    <input id="password" name="password" type="password" autocomplete="current-password" required maxlength="256">
    <button type="submit" class="button">Sign in</button>
  </form>
  {% if demo %}
  <section class="demo-users" aria-labelledby="demo-users-title">
    <h2 id="demo-users-title">Demo accounts</h2>
    <p><strong>admin</strong> / <code>admin-demo</code> sees all of England. Each CDOP has an account named by its
    code in lower case, password <code>demo-</code> and the same: for example <strong>llr</strong> /
    <code>demo-llr</code> (Leicester, Leicestershire and Rutland) or <strong>ncl</strong> / <code>demo-ncl</code>
    (North Central London). The full list is in the README.</p>
  </section>
  {% endif %}
</main>
</body>
</html>"""


def _login_form(svc: Services, error: str | None = None) -> str:
    target = request.args.get("next")
    next_query = f"?next={quote(local_target(target), safe='')}" if target else ""
    return render_template_string(
        LOGIN_TEMPLATE,
        demo=demo_mode(svc),
        error=error,
        next_query=next_query,
        csrf_token=generate_csrf(),
        changed=request.args.get("changed") == "1",
    )


CHANGE_FORM = """<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>Choose a new password · Deaths by hospital trust</title>
<link rel="stylesheet" href="/assets/style.css">
</head>
<body class="login-body">
<main class="login" id="main">
  <h1>Choose a new password</h1>
  <p>An administrator set a one-off password for your account. Choose your own (at least 12 characters)
  before going on.</p>
  {% if error %}<div class="notice error" role="alert">{{ error }}</div>{% endif %}
  <form method="post" action="/password" class="login-form">
    <input type="hidden" name="csrf_token" value="{{ csrf_token }}">
    <label for="current">The password you were given</label>
    <input id="current" name="current" type="password" autocomplete="current-password" required maxlength="256">
    <label for="new">New password</label>
    <input id="new" name="new" type="password" autocomplete="new-password" required minlength="12" maxlength="256">
    <label for="confirm">New password again</label>
    <input id="confirm" name="confirm" type="password" autocomplete="new-password" required maxlength="256">
    <button type="submit" class="button">Change my password</button>
  </form>
</main>
</body>
</html>"""


def _password_form(error: str | None = None) -> str:
    return render_template_string(CHANGE_FORM, error=error, csrf_token=generate_csrf())

"""The sign-in, sign-out and password-change pages: a Blueprint with its templates."""

from __future__ import annotations

from typing import Any
from urllib.parse import quote

from flask import Blueprint, Response, make_response, redirect, render_template, request, session
from flask_login import current_user, login_user, logout_user

from dashboard.auth.gate import PASSWORD_PATH, SignedIn, demo_mode
from dashboard.auth.redirect_target import local_target
from dashboard.context import services
from operational import accounts, audit, sessions, throttle

blueprint = Blueprint("auth", __name__, template_folder="templates")


@blueprint.get("/login")
def login_page() -> str:
    return _login_form()


@blueprint.post("/login")
def login() -> Any:
    svc = services()
    username = str(request.form.get("username", "")).strip().lower()[:64]
    password = str(request.form.get("password", ""))[:256]
    address = request.remote_addr
    refusal = throttle.check(svc.engine, username, address)
    if refusal is not None:
        audit.record(svc.engine, "login_throttled", username or None, address, reason=refusal.reason)
        response = make_response(_login_form(error=_throttled_message(refusal)), 429)
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
        return _login_form(error="That username and password do not match an active account."), 401
    if current_user.is_authenticated:  # signing in again in this browser ends the session it replaces
        sessions.end(svc.engine, current_user.token, "replaced")
    session.clear()  # a fresh session at sign-in: nothing from before survives (no fixation)
    login_user(SignedIn(account, sessions.start(svc.engine, account.id)))
    audit.record(svc.engine, "login", account.username, address)
    if account.must_change_password:
        return redirect(PASSWORD_PATH)
    return redirect(local_target(request.args.get("next")))


@blueprint.get(PASSWORD_PATH)
def password_page() -> str:
    return _password_form()


@blueprint.post(PASSWORD_PATH)
def change_password() -> Any:
    engine = services().engine
    account = current_user.account
    current = str(request.form.get("current", ""))[:256]
    new = str(request.form.get("new", ""))[:256]
    if accounts.authenticate(engine, account.username, current) is None:
        return _password_form("Your current password is not right."), 400
    if new != str(request.form.get("confirm", ""))[:256]:
        return _password_form("The two new passwords differ."), 400
    if new == current:
        return _password_form("Choose a password different from the one you were given."), 400
    try:
        accounts.set_password(engine, account.username, new)  # ends every session of this user
    except accounts.AccountError as error:
        return _password_form(f"{str(error).capitalize()}."), 400
    audit.record(engine, "admin_action", account.username, request.remote_addr, action="changed own password")
    logout_user()
    session.clear()
    return redirect("/login?changed=1")


@blueprint.post("/logout")
def logout() -> Response:
    if current_user.is_authenticated:
        engine = services().engine
        sessions.end(engine, current_user.token, "logout")
        audit.record(engine, "logout", current_user.account.username, request.remote_addr)
    logout_user()
    session.clear()
    return redirect("/login")


def _throttled_message(refusal: throttle.Refusal) -> str:
    wait = refusal.retry_after
    when = f"{wait} seconds" if wait < 120 else f"{(wait + 59) // 60} minutes"
    if refusal.reason == "address":
        return f"Too many failed sign-ins from this network. Try again in {when}, or ask your administrator."
    return (
        f"Too many failed sign-ins for this username from elsewhere. Try again in {when}; from a computer you "
        "have signed in on before you can sign in now."
    )


def _login_form(error: str | None = None) -> str:
    target = request.args.get("next")
    next_query = f"?next={quote(local_target(target), safe='')}" if target else ""
    return render_template(
        "auth/login.html",
        demo=demo_mode(services()),
        error=error,
        next_query=next_query,
        changed=request.args.get("changed") == "1",
    )


def _password_form(error: str | None = None) -> str:
    return render_template("auth/password.html", error=error)

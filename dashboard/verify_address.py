"""Following the link that confirms a digest address (``/settings/verify?token=...``).

Behind the sign-in like every page, and for the account the link was made
for only. Opening the link shows a button; only pressing it (a POST with its
CSRF token) confirms the address, so a mail scanner that opens every link in
a message confirms nothing.
"""

from __future__ import annotations

from typing import Any

from flask import Flask, current_app, render_template, request

from dashboard.context import services, signed_in_user
from digest.links import VERIFY_PATH, LinkProblem, Verification, read_token
from operational import audit, digests
from queries import whatsnew
from queries.store import StoreUnavailable

TEMPLATE = "digest_verify.html"  # in dashboard/templates/


def register(server: Flask) -> None:
    @server.get(VERIFY_PATH)
    def verify_form() -> Any:
        token = request.args.get("token", "")
        found = _checked(token)
        if isinstance(found, LinkProblem):
            return render_template(TEMPLATE, error=str(found)), 400
        return render_template(TEMPLATE, token=token, email=found.email)

    @server.post(VERIFY_PATH)
    def verify() -> Any:
        found = _checked(request.form.get("token", ""))
        if isinstance(found, LinkProblem):
            return render_template(TEMPLATE, error=str(found)), 400
        svc = services()
        user = signed_in_user()
        if not digests.verify(svc.engine, user.id, found.email, _newest_load()):
            error = "This address is no longer the one on your settings: this link cannot confirm it."
            return render_template(TEMPLATE, error=error), 409
        audit.record(svc.engine, "digest_verified", user.username, request.remote_addr, to=found.email)
        return render_template(TEMPLATE, confirmed=found.email)


def _checked(token: object) -> Verification | LinkProblem:
    """The link's user and address if it is valid and the signed-in user's own; else what is wrong with it."""
    try:
        found = read_token(current_app.config["SECRET_KEY"], token)
    except LinkProblem as problem:
        return problem
    user = signed_in_user()
    if found.user_id != user.id:
        audit.record(services().engine, "forbidden", user.username, request.remote_addr, page=VERIFY_PATH)
        return LinkProblem("This link was made for another account: sign in as the person it was sent to.")
    return found


def _newest_load() -> Any:
    """Where the new digest mark starts: what the deaths store holds now (None without a store:
    the first run then starts it)."""
    svc = services()
    try:
        conn = svc.store.cursor()
    except StoreUnavailable:
        return None
    try:
        return whatsnew.latest_load(conn)
    finally:
        conn.close()

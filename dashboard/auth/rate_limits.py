"""Per-user limits on callbacks and downloads, so that one user cannot slow everyone.

Two rules, counted per signed-in account (its id in the operational store,
never anything the browser sends), in the operational store so that every
worker and every machine counts alike:

- **Server time.** Each callback and download is charged the time the server
  spent on it (milliseconds, from the first thing the app does with the
  request to the response). A user may spend ``RATE_LIMIT_SERVER_SECONDS``
  of it in each ``RATE_LIMIT_WINDOW_SECONDS``. Summed over a user's requests,
  that time is the number of their requests in flight integrated over time,
  so the rule reads "on average at most server/window of the user's requests
  being served": one person clicking (or the benchmark replaying filter changes
  back to back) never has more than one at a time for long and cannot reach
  it, while a flood of parallel requests keeps several workers busy (a request
  waiting for a worker is not charged) and spends it within seconds.
- **Downloads.** ``RATE_LIMIT_DOWNLOADS`` per minute: the case list streams
  after its response has begun, so its time is not seen by the first rule.

A refused request gets 429 with Retry-After (JSON for callbacks, which
``assets/rate-limit.js`` turns into a message on the page), and the first
refusal in each window is written to the audit log.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable
from typing import Any

from flask import Flask, Response, g, jsonify, render_template, request
from flask_limiter import Limiter, RequestLimit
from flask_limiter.errors import RateLimitExceeded
from flask_login import current_user
from limits import RateLimitItemPerSecond
from sqlalchemy import Engine

from operational import audit
from operational.limit_store import SCHEME
from settings import Settings

CALLBACK_ENDPOINT = "/_dash-update-component"
SERVER_TIME = "server-time"  # the budget's scope: its counter is batched in each worker (operational.limit_store)
DOWNLOAD_ENDPOINTS = ("download", "audit_download", "pack_download")  # the last: dashboard.pack.route
BUSY_MESSAGE = (
    "You have asked for a lot in a few seconds, so the server is pausing your requests to keep the dashboard "
    "quick for everyone."
)


def limit_key() -> str:
    """The signed-in account's id: the same for all of a user's sessions, and not
    something a header, cookie or query can change (the gate has already refused
    anyone not signed in)."""
    if current_user.is_authenticated:
        return f"user-{current_user.account.id}"
    return "anonymous"


def _start_clock() -> None:
    g.limit_clock = time.perf_counter()


def server_milliseconds() -> int:
    """The time spent on this request so far (at least 1 ms, so every request counts)."""
    started = g.get("limit_clock", time.perf_counter())
    return max(1, round(1000 * (time.perf_counter() - started)))


def init_rate_limits(server: Flask, engine: Engine, settings: Settings) -> Limiter:
    """Limit the callback and download routes (both must be registered already)."""
    # the clock starts before the sign-in gate and the CSRF check, which are part of the request's cost
    server.before_request_funcs.setdefault(None, []).insert(0, _start_clock)
    limiter = Limiter(
        key_func=limit_key,
        app=server,
        storage_uri=f"{SCHEME}://",
        # the storage takes the engine itself; the server-time budget, charged on every callback, is batched
        storage_options={"engine": engine, "batched_scopes": (SERVER_TIME,)},  # type: ignore[dict-item]
        strategy="fixed-window",
        key_prefix="cdop",
        swallow_errors=True,  # a limit is no reason to fail a page: if its store fails, let the request through
        on_breach=_audit_first_refusal(limiter_engine=engine),
    )
    budget = limiter.shared_limit(
        f"{settings.rate_limit_server_seconds * 1000} per {settings.rate_limit_window_seconds} seconds",
        scope=SERVER_TIME,
        cost=server_milliseconds,
        # charged once the time is known; a refusal is not charged, so that it costs reads only
        # (a flood of refused requests must not queue behind each other's writes)
        deduct_when=lambda response: response.status_code != 429,
    )
    # one count for every download route (the report's and the audit log's), under the name the
    # count had when one route served both ("<endpoint>:<scope>", as flask-limiter names a route's own)
    downloads = limiter.shared_limit(f"{settings.rate_limit_downloads} per minute", scope="download:downloads")
    views = server.view_functions
    views[CALLBACK_ENDPOINT] = budget(views[CALLBACK_ENDPOINT])
    for endpoint in DOWNLOAD_ENDPOINTS:
        views[endpoint] = budget(downloads(views[endpoint]))

    @server.errorhandler(RateLimitExceeded)
    def too_many(_error: RateLimitExceeded) -> Response:
        return refusal(limiter)

    return limiter


def _audit_first_refusal(limiter_engine: Engine) -> Callable[[RequestLimit], None]:
    """Record a refusal in the audit log once per user, limit and window, not once per refused request."""

    def on_breach(breached: RequestLimit) -> None:
        once = RateLimitItemPerSecond(1, breached.limit.get_expiry())
        # a read first: only the first refusal of the window writes
        if breached.limiter.test(once, "audit", breached.key) and breached.limiter.hit(once, "audit", breached.key):
            audit.record(
                limiter_engine,
                "rate_limited",
                current_user.account.username if current_user.is_authenticated else None,
                request.remote_addr,
                limit=str(breached.limit),
                path=request.path,
            )

    return on_breach


def retry_after(limiter: Limiter) -> int:
    """Whole seconds until the breached limit's window ends."""
    breached = limiter.current_limit
    if breached is None:
        return 1
    return max(1, math.ceil(breached.window.reset_time - time.time()))


def refusal(limiter: Limiter) -> Response:
    """429 with Retry-After: JSON for the page's own requests, a short page for a person."""
    seconds = retry_after(limiter)
    wants_page = not request.path.startswith("/_dash-") and _prefers_html()
    response: Any
    if wants_page:
        response = Response(render_template("auth/busy.html", message=BUSY_MESSAGE, seconds=seconds), 429)
    else:
        response = jsonify(error=BUSY_MESSAGE, retry_after=seconds)
        response.status_code = 429
    response.headers["Retry-After"] = str(seconds)
    response.headers["Cache-Control"] = "no-store"
    return response


def _prefers_html() -> bool:
    accepted = request.accept_mimetypes
    return accepted.quality("text/html") > accepted.quality("application/json")

"""Error answers: JSON for the app's own requests, a small page for a person's browser."""

from __future__ import annotations

from typing import Any

from flask import Flask, jsonify, render_template, request
from flask_wtf.csrf import CSRFError
from werkzeug.exceptions import HTTPException

MESSAGES = {
    400: "The request could not be understood.",
    403: "You do not have access to this page.",
    404: "There is no page at this address.",
    405: "That method is not allowed here.",
    413: "That request is too large.",
    414: "That address is too long.",
    429: "Too many requests. Wait a moment and try again.",
}
TITLES = {404: "Page not found", 403: "Access denied", 429: "Too many requests"}


def error_response(code: int, message: str) -> Any:
    """JSON for the app's own requests, a small page for a person's browser."""
    if request.path.startswith(("/_dash-", "/download/")) or request.is_json:
        return jsonify(error=message), code
    title = TITLES.get(code, "Something is wrong")
    return render_template("auth/error.html", code=code, title=title, message=message), code


def init_errors(server: Flask) -> None:
    @server.errorhandler(CSRFError)
    def csrf_failed(_exc: CSRFError) -> Any:
        return error_response(400, "This form has expired. Go back, reload the page and try again.")

    @server.errorhandler(HTTPException)
    def http_error(error: HTTPException) -> Any:
        code = error.code or 500
        return error_response(code, MESSAGES.get(code, error.description or "Request refused."))

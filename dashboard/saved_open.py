"""``GET /saved/<id>``: open a saved view. Its query is cleaned against the user's scope today,
so a view saved before a footprint changed never shows more than the user may see now."""

from __future__ import annotations

from flask import Flask, Response, jsonify, redirect, request

from dashboard.context import opened_view, services, signed_in_user
from dashboard.ui.saved_views import OPEN_PATH, savable
from operational import audit, saved_views


def register(server: Flask) -> None:
    @server.get(f"{OPEN_PATH}<int:view_id>")
    def open_saved(view_id: int) -> Response | tuple[Response, int]:
        user = signed_in_user()
        engine = services().engine
        saved = saved_views.find(engine, view_id, user.id, user.cdop_codes)
        if saved is None or not savable(saved.path):  # another user's view is not told apart from none
            return jsonify(error="you have no saved view with that number"), 404
        with opened_view(saved.query) as view:
            query, scope = view.query(), view.scope.label
        audit.record(
            engine,
            "saved_view",
            user.username,
            request.remote_addr,
            action="open",
            id=saved.id,
            query=query,
            scope=scope,
        )
        return redirect(f"{saved.path}{query}")

"""``GET /healthz``: for load balancers and the page's own check of the deaths store and the operational store."""

from __future__ import annotations

from flask import Flask, Response

from dashboard.context import Services
from operational.database import reachable
from queries.store import StoreUnavailable


def register(server: Flask, svc: Services) -> None:
    @server.get("/healthz")
    def health() -> Response:
        """A word, nothing about the server (public: the sign-in gate lets it through)."""
        try:
            svc.store.facts()
        except StoreUnavailable as error:
            server.logger.warning("health check: the deaths store is unavailable: %s", str(error).splitlines()[0])
            return Response("unavailable", status=503, mimetype="text/plain", headers={"Cache-Control": "no-store"})
        if not reachable(svc.engine):  # a host that cannot reach the shared store must leave the load balancer
            server.logger.warning("health check: the operational store is unavailable")
            return Response("unavailable", status=503, mimetype="text/plain", headers={"Cache-Control": "no-store"})
        return Response("ok", mimetype="text/plain", headers={"Cache-Control": "no-store"})

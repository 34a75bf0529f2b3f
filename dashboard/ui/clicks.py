"""Reading chart clicks safely (they come from the browser, so they are untrusted)."""

from __future__ import annotations

from typing import Any

from queries.filters import Option


def clicked_code(click_data: Any, allowed: tuple[Option, ...]) -> str | None:
    """The code a chart click carries, if it is one of the allowed options."""
    if not isinstance(click_data, dict):
        return None
    points = click_data.get("points")
    if not isinstance(points, list) or not points or not isinstance(points[0], dict):
        return None
    code = points[0].get("customdata")
    if isinstance(code, list) and code:
        code = code[0]
    if not isinstance(code, str):
        return None
    return code if code in {o.value for o in allowed} else None


def download_href(name: str, query: str) -> str:
    return f"/download/{name}.csv{query}"

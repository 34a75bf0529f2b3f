"""The body the Dash renderer posts to ``/_dash-update-component``, for replaying callbacks."""

from __future__ import annotations

from typing import Any


def callback_body(dependency: dict[str, Any], values: dict[str, Any], changed: str) -> dict[str, Any]:
    """``dependency`` as listed by ``/_dash-dependencies``; ``values`` by "id.property"."""
    parts = dependency["output"][2:-2].split("...") if dependency["output"].startswith("..") else [dependency["output"]]
    outputs = [{"id": p.rsplit(".", 1)[0], "property": p.rsplit(".", 1)[1]} for p in parts]

    def filled(items: list[dict[str, Any]]) -> list[dict[str, Any]]:
        return [{**i, "value": values.get(f"{i['id']}.{i['property']}")} for i in items]

    return {
        "output": dependency["output"],
        "outputs": outputs if len(outputs) > 1 else outputs[0],
        "inputs": filled(dependency["inputs"]),
        "state": filled(dependency.get("state", [])),
        "changedPropIds": [changed],
    }

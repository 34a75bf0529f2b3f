"""Calling Dash callbacks over HTTP the way the browser does, for tests."""

from __future__ import annotations

from typing import Any

from flask.testing import FlaskClient
from werkzeug.test import TestResponse

# the overview's callback, found by its first chart: its text is set beside its outputs (set_props)
OVERVIEW = "overview-trust.figure"


def split_outputs(output: str) -> list[dict[str, str]]:
    """'..a.b...c.d..' or 'a.b' -> [{'id': 'a', 'property': 'b'}, ...] (the renderer's shape)."""
    parts = output[2:-2].split("...") if output.startswith("..") else [output]
    out = []
    for part in parts:
        component, prop = part.rsplit(".", 1) if "@" not in part else part.split("@")[0].rsplit(".", 1)
        out.append({"id": component, "property": prop})
    return out


class DashClient:
    def __init__(self, client: FlaskClient) -> None:
        self.client = client
        response = client.get("/_dash-dependencies")
        assert response.status_code == 200, response.status_code
        self.dependencies: list[dict[str, Any]] = response.get_json()

    def find(self, output_part: str) -> dict[str, Any]:
        matches = [d for d in self.dependencies if output_part in d["output"]]
        assert len(matches) == 1, (output_part, [d["output"] for d in matches])
        return matches[0]

    def body(self, dependency: dict[str, Any], values: dict[str, Any], changed: list[str] | None = None) -> dict:
        outputs = split_outputs(dependency["output"])

        def filled(items: list[dict[str, Any]]) -> list[dict[str, Any]]:
            return [{**item, "value": values.get(f"{item['id']}.{item['property']}")} for item in items]

        inputs = filled(dependency["inputs"])
        return {
            "output": dependency["output"],
            "outputs": outputs if len(outputs) > 1 else outputs[0],
            "inputs": inputs,
            "state": filled(dependency.get("state", [])),
            "changedPropIds": changed if changed is not None else [f"{inputs[0]['id']}.{inputs[0]['property']}"],
        }

    def call(self, output_part: str, values: dict[str, Any], changed: list[str] | None = None) -> TestResponse:
        return self.client.post("/_dash-update-component", json=self.body(self.find(output_part), values, changed))

    def outputs(self, output_part: str, values: dict[str, Any], changed: list[str] | None = None) -> dict[str, Any]:
        """The callback's response as {'id.prop': value}, with what it set beside its outputs (``set_props``)."""
        response = self.call(output_part, values, changed)
        assert response.status_code == 200, (response.status_code, response.get_data(as_text=True)[:300])
        answer = response.get_json()
        return {
            f"{component}.{prop}": value
            for part in ("response", "sideUpdate")
            for component, props in answer.get(part, {}).items()
            for prop, value in props.items()
        }


def tiles(outputs: dict[str, Any], name: str) -> dict[str, str]:
    """{label: value} of the headline tiles ``name`` in a callback's answer (``components.tile_slots``:
    each tile's label and value are outputs of their own); unused slots are left out."""
    found: dict[str, str] = {}
    number = 0
    while f"{name}-{number}-label.children" in outputs:
        label = outputs[f"{name}-{number}-label.children"]
        if label:
            found[label] = outputs[f"{name}-{number}-value.children"]
        number += 1
    return found

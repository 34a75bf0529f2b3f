"""Callback responses encoded by orjson, which walks Dash components itself.

Dash encodes every callback response with plotly's ``to_json_plotly``: when
the response holds components (tables, tiles) orjson cannot take it whole,
and plotly falls back to walking every value in Python first, which for a
page of tables and figures costs more than the query behind it. Here orjson
asks each component for its JSON form as it meets it, so the walk stays in
Rust; the output is the same JSON (checked in tests/dashboard/test_fast_json.py), with
the same escaping, and anything orjson cannot encode still goes to plotly.
"""

from __future__ import annotations

from typing import Any

import dash._callback
import orjson
from plotly.io.json import to_json_plotly

_OPTIONS = orjson.OPT_NON_STR_KEYS | orjson.OPT_SERIALIZE_NUMPY
# as plotly does, so the text is safe inside an HTML page too
_ESCAPES = (("<", "\\u003c"), (">", "\\u003e"), ("/", "\\u002f"), ("\u2028", "\\u2028"), ("\u2029", "\\u2029"))


def _component(value: Any) -> Any:
    as_json = getattr(value, "to_plotly_json", None)
    if as_json is None:
        raise TypeError(f"cannot encode {type(value).__name__}")
    return as_json()


def to_json(value: Any) -> str:
    try:
        text = orjson.dumps(value, default=_component, option=_OPTIONS).decode("utf-8")
    except TypeError:
        return str(to_json_plotly(value))
    for unsafe, safe in _ESCAPES:
        if unsafe in text:
            text = text.replace(unsafe, safe)
    return text


def install() -> None:
    """Dash's callback dispatch looks ``to_json`` up in its module at each call."""
    dash._callback.to_json = to_json  # type: ignore[attr-defined]

"""The vendored plotly.js partial bundle, read as a file: its version and the trace types it holds."""

from __future__ import annotations

import re
from collections.abc import Iterator
from functools import cache
from pathlib import Path
from typing import Any

from plotly.offline import get_plotlyjs_version

PROJECT = Path(__file__).resolve().parents[1]
VENDOR = PROJECT / "assets" / "vendor"
FULL_BUNDLE = re.compile(r"plotly(-\d[\w.-]*)?\.min\.js|cdn\.plot\.ly|package_data/plotly")  # what must never load


def bundle() -> Path:
    """The one plotly.js bundle in assets/vendor (two would both load: the later one wins)."""
    found = sorted(VENDOR.glob("plotly*.js"))
    assert len(found) == 1, f"expected one plotly.js bundle in {VENDOR}, found {[p.name for p in found]}"
    return found[0]


def bundle_url_part() -> str:
    return f"/assets/vendor/{bundle().name}"


@cache
def _head() -> str:
    with bundle().open(encoding="utf-8") as handle:
        return handle.read(400)


def bundle_version() -> str:
    """The version in the bundle's own banner: ``plotly.js (cartesian - minified) v4.1.1``."""
    found = re.search(r"plotly\.js \([\w -]+\) v(\d+\.\d+\.\d+)", _head())
    assert found, f"no plotly.js version banner at the top of {bundle().name}"
    return found.group(1)


@cache
def bundle_trace_types() -> frozenset[str]:
    """Every trace module the bundle registers (each is ``moduleType:"trace",name:"bar"`` in its source);
    the browser suite checks this against ``Plotly.PlotSchema`` in the page."""
    found = frozenset(re.findall(r'moduleType:"trace",name:"(\w+)"', bundle().read_text(encoding="utf-8")))
    assert found, f"no trace modules found in {bundle().name}: has the bundle's format changed?"
    return found


def pinned_version() -> str:
    """The plotly.js version the pinned plotly package is built for."""
    return str(get_plotlyjs_version())


def trace_types(figure: dict[str, Any]) -> Iterator[str]:
    """The trace types of a figure as JSON (plotly's default type is scatter)."""
    for trace in figure.get("data") or []:
        yield trace.get("type") or "scatter"

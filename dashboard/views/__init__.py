"""The report's views, one module each: ``PATH``, ``NAME``, ``layout(**query)`` and its callbacks."""

from __future__ import annotations

from types import ModuleType

from dashboard.views import about, cases, overview, reviewing, trends, trusts

VIEWS: tuple[ModuleType, ...] = (overview, trusts, reviewing, trends, cases, about)
BY_PATH: dict[str, ModuleType] = {view.PATH: view for view in VIEWS}


def key(view: ModuleType) -> str:
    return view.__name__.rsplit(".", 1)[-1]

"""Collecting callbacks per module and registering them on an app explicitly.

Dash's global ``@callback`` registry is emptied by the first app built in a
process, so a second app (a test, a second server) would have no callbacks.
Each module lists its callbacks here instead and ``register`` attaches them to
the app being built. The functions stay plain module-level functions.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import dash


class Callbacks:
    def __init__(self) -> None:
        self._specs: list[tuple[Callable[..., Any], tuple[Any, ...], dict[str, Any]]] = []
        self._clientside: list[tuple[str, tuple[Any, ...], dict[str, Any]]] = []

    def __call__(self, *args: Any, **kwargs: Any) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
        def collect(func: Callable[..., Any]) -> Callable[..., Any]:
            self._specs.append((func, args, kwargs))
            return func

        return collect

    def clientside(self, code: str, *args: Any, **kwargs: Any) -> None:
        self._clientside.append((code, args, kwargs))

    def register(self, app: dash.Dash) -> None:
        for func, args, kwargs in self._specs:
            app.callback(*args, **kwargs)(func)
        for code, args, kwargs in self._clientside:
            app.clientside_callback(code, *args, **kwargs)

"""Per-request context: who is asking, what they may see, and what they asked for.

Every callback and download route calls ``view_for`` (callbacks through
``with opened_view(...) as view:``): the scope is re-derived from the
logged-in user on the server each time, and every value from the browser is
cleaned against that scope's options.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, replace
from datetime import date
from typing import TypeVar

import duckdb
from flask import current_app, request
from flask_login import current_user
from sqlalchemy import Engine

from dashboard.urlstate import Params, build_query, first, parse_query, raw_filters
from footprints.store import MappingSource
from operational import audit
from operational.accounts import User
from queries import report
from queries.deaths_store import DeathsStore, StoreFacts
from queries.filters import FilterOptions, Filters, Option
from queries.mapping import Mapping

# the scope policy lives in queries.scope; its chooser values stay importable from here
from queries.scope import ALL_MINE as ALL_MINE
from queries.scope import ENGLAND as ENGLAND
from queries.scope import NoFootprint as NoFootprint
from queries.scope import Scope, footprint_choices, scope_for
from settings import Settings

PAGE_PARAMS = ("grain", "split", "since", "lines", "window", "by")  # a page's own settings, kept in its links
CACHE_SIZE = 512
T = TypeVar("T")


@dataclass
class Services:
    """Process-wide handles, kept on the Flask app."""

    settings: Settings
    store: DeathsStore
    engine: Engine

    def __post_init__(self) -> None:
        self._cache: OrderedDict[tuple[object, ...], object] = OrderedDict()
        self._lock = threading.Lock()
        self.mappings = MappingSource(self.engine)

    def today(self) -> date:
        """The day whose mapping is in force: the calendar's, or the demo's
        fixed day (``FIXED_TODAY``, for tests of scheduled changes)."""
        return self.settings.fixed_today or date.today()

    def cached(self, key: tuple[object, ...], make: Callable[[], T]) -> T:
        """A small LRU cache for what is derived from the store and a user's
        rights. Every key must hold everything the value depends on: the store
        version and the user's role and grants (or the scope's own key); a key
        that left out whose it is would hand one user's footprint to another."""
        with self._lock:
            if key in self._cache:
                self._cache.move_to_end(key)
                return self._cache[key]  # type: ignore[return-value]
        value = make()
        with self._lock:
            self._cache[key] = value
            while len(self._cache) > CACHE_SIZE:
                self._cache.popitem(last=False)
        return value

    def options(self, conn: duckdb.DuckDBPyConnection, scope: Scope, version: str) -> FilterOptions:
        return self.cached(("options", scope.key, version), lambda: report.filter_options(conn, scope))

    def names(self, conn: duckdb.DuckDBPyConnection, version: str) -> report.Names:
        """Trust, hospital and CDOP names: the same for everyone, until the store changes."""
        return self.cached(("names", version), lambda: report.read_names(conn))


def services() -> Services:
    return current_app.extensions["cdop"]


def signed_in_user() -> User:
    return current_user.account


@dataclass
class View:
    user: User
    conn: duckdb.DuckDBPyConnection
    facts: StoreFacts
    scope: Scope
    footprint: str
    footprints: tuple[Option, ...]
    options: FilterOptions
    filters: Filters
    params: Params
    give_back: Callable[[], None]  # the cursor, for the next request to reuse
    names: report.Names  # trust, hospital and CDOP names, for report.counts

    def close(self) -> None:
        self.give_back()

    def query(self, **view_params: str | None) -> str:
        """The canonical query string of this view (cleaned filters, footprint and
        any page settings), for links, downloads and the URL."""
        kept = {name: first(self.params, name) for name in PAGE_PARAMS}
        return build_query(self.filters, {"footprint": self._footprint_param(), **kept, **view_params})

    def with_filters(self, **changes: object) -> str:
        """The query string of this view with some filters replaced."""
        kept = {name: first(self.params, name) for name in PAGE_PARAMS}
        return build_query(replace(self.filters, **changes), {"footprint": self._footprint_param(), **kept})

    def _footprint_param(self) -> str | None:
        """The footprint is only written into URLs when the user has a choice."""
        return self.footprint if len(self.footprints) > 1 else None


def mapping_in_force(conn: duckdb.DuckDBPyConnection) -> Mapping:
    """The managed mapping as it stands, at the version this request has read: a change reaches
    every user on their next request."""
    return services().mappings.current(conn, getattr(current_user, "mapping_version", None))


def view_for(search: object, today: date | None = None, page: str | None = None) -> View:
    """Everything a callback or download needs, derived on the server. With
    ``page``, the view is recorded in the audit log with its filters."""
    user = signed_in_user()
    svc = services()
    conn, give_back = svc.store.lease()
    try:
        facts = svc.store.facts()
        params = parse_query(search)
        day = today or svc.today()
        mapping = mapping_in_force(conn)
        rights = (user.id, user.role, user.cdop_codes, day, facts.version, mapping.version)
        requested = first(params, "footprint")
        choices = svc.cached(("choices", *rights), lambda: footprint_choices(user, conn, day, mapping))
        scope, footprint = svc.cached(
            ("scope", *rights, requested), lambda: scope_for(user, requested, conn, day, mapping)
        )
        options = svc.options(conn, scope, facts.version)
        names = svc.names(conn, facts.version)
        filters = options.clean(raw_filters(params))
    except BaseException:
        give_back()
        raise
    view = View(
        user=user,
        conn=conn,
        give_back=give_back,
        facts=facts,
        scope=scope,
        footprint=footprint,
        footprints=choices,
        options=options,
        filters=filters,
        params=params,
        names=names,
    )
    if page is not None:
        audit.record(
            svc.engine,
            "page_view",
            user.username,
            request.remote_addr,
            page=page,
            query=view.query(),
            scope=scope.label,
        )
    return view


@contextmanager
def opened_view(search: object, today: date | None = None, page: str | None = None) -> Iterator[View]:
    """``view_for`` for a ``with`` block: the view's cursor goes back when the block ends, however it ends.
    (A streamed download, whose view outlives the request handler, closes it itself.)"""
    view = view_for(search, today, page)
    try:
        yield view
    finally:
        view.close()

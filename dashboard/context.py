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

from dashboard import audit
from dashboard.accounts import User
from dashboard.deaths_store import DeathsStore, StoreFacts
from dashboard.mapping_store import MappingSource
from dashboard.urlstate import Params, build_query, first, parse_query, raw_filters
from queries import report
from queries.filters import FilterOptions, Filters, Option
from queries.mapping import Mapping
from queries.scope import Scope, UnknownCdop, cdop_scope, cdops_in_force, england_scope
from settings import Settings

# The chooser's two values that are not one CDOP. Lower case with a hyphen, so
# that no CDOP code (upper case letters and digits: queries.codes.CDOP_CODE)
# can ever equal one: a CDOP coded ENGLAND is just a CDOP.
ENGLAND = "all-england"
ALL_MINE = "all-mine"
PAGE_PARAMS = ("grain", "split", "since")  # a page's own settings, kept in its links
CACHE_SIZE = 512
T = TypeVar("T")


class NoFootprint(RuntimeError):
    """The user holds no CDOP that is in force."""


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


def footprint_choices(user: User, conn: duckdb.DuckDBPyConnection, day: date, mapping: Mapping) -> tuple[Option, ...]:
    """The footprints this user may look at: their own CDOPs; for an admin,
    all England and every CDOP in force."""
    if user.is_admin:
        return (
            Option(ENGLAND, "All England"),
            *(Option(code, name) for code, name in cdops_in_force(conn, day, mapping)),
        )
    own: dict[str, str] = {}
    for code in user.cdop_codes:
        try:
            scope = cdop_scope(conn, [code], day, mapping)
        except UnknownCdop:
            continue
        own[scope.cdop_codes[0]] = scope.label
    if not own:
        raise NoFootprint("your account holds no CDOP that is in force; ask an NCMD administrator")
    choices = [Option(code, name) for code, name in sorted(own.items(), key=lambda item: item[1])]
    return (Option(ALL_MINE, "All my CDOPs"), *choices) if len(choices) > 1 else tuple(choices)


def scope_for(
    user: User, requested: str | None, conn: duckdb.DuckDBPyConnection, day: date, mapping: Mapping
) -> tuple[Scope, str]:
    """The scope for the footprint asked for, if this user may have it; their
    default footprint otherwise, under the mapping in force on ``day``.

    A value asked for that is not one of the user's choices (an old bookmark's
    ``ENGLAND`` or ``ALL`` included) gives their default, which is all England
    for an administrator and all their CDOPs for a user with several."""
    choices = footprint_choices(user, conn, day, mapping)
    chosen = requested if requested in {c.value for c in choices} else choices[0].value
    # all England goes to administrators only, whatever string was chosen: a
    # store written before the code rule may hold a CDOP coded like a sentinel
    if chosen == ENGLAND and user.is_admin:
        return england_scope(conn, day, mapping), chosen
    if chosen == ALL_MINE and not user.is_admin:
        return cdop_scope(conn, list(user.cdop_codes), day, mapping), chosen
    return cdop_scope(conn, [chosen], day, mapping), chosen


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
        # the managed mapping's version: a change reaches every user on their next request
        mapping = svc.mappings.current(conn, getattr(current_user, "mapping_version", None))
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

"""The web workers' read-only handle on the DuckDB deaths store.

Opened lazily (never at import, so gunicorn can fork safely), one connection
per process and one cursor per request (DuckDB connections are not shared
across threads). A request gives its cursor back when it is done, for the
next request to reuse: making a cursor and pointing it at the store is a
visible share of a filter change's time (``bench/`` measures it). When a
load swaps in a new store file, the next request sees the new file: the
file's identity is checked at most once a second, and cursors on the old
file are not reused.
"""

from __future__ import annotations

import os
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date
from pathlib import Path

import duckdb

from queries.report import data_facts
from queries.store import StoreUnavailable, open_readonly, use_store

RECHECK_SECONDS = 1.0
IDLE_CURSORS = 8  # kept for reuse: more than a worker's threads ever need at once


@dataclass(frozen=True)
class StoreFacts:
    as_at: date | None
    synthetic: bool
    deaths: int
    version: str  # changes whenever a new store file is swapped in


class DeathsStore:
    def __init__(self, path: Path) -> None:
        self.path = path
        self._lock = threading.Lock()
        self._conn: duckdb.DuckDBPyConnection | None = None
        self._identity: tuple[int, int, int] | None = None
        self._facts: StoreFacts | None = None
        self._idle: list[tuple[duckdb.DuckDBPyConnection, duckdb.DuckDBPyConnection]] = []  # (made on, cursor)
        self._checked = 0.0

    def _current_identity(self) -> tuple[int, int, int]:
        try:
            stat = os.stat(self.path)
        except FileNotFoundError:
            raise StoreUnavailable(f"no deaths store at {self.path}") from None
        return (stat.st_ino, stat.st_mtime_ns, stat.st_size)

    def cursor(self) -> duckdb.DuckDBPyConnection:
        """A new cursor on the newest store file; the caller closes it."""
        return use_store(self._connection().cursor())

    def lease(self) -> tuple[duckdb.DuckDBPyConnection, Callable[[], None]]:
        """A cursor for one request on the newest store file, reused from an
        earlier request if one was given back; and the call that gives it back."""
        conn = self._connection()
        reused: duckdb.DuckDBPyConnection | None = None
        with self._lock:
            while self._idle and reused is None:
                made_on, cursor = self._idle.pop()
                if made_on is conn:
                    reused = cursor
                else:
                    cursor.close()  # made on a store file since replaced
        leased = reused or use_store(conn.cursor())
        return leased, lambda: self._give_back(conn, leased)

    def _give_back(self, made_on: duckdb.DuckDBPyConnection, cursor: duckdb.DuckDBPyConnection) -> None:
        with self._lock:
            if made_on is self._conn and len(self._idle) < IDLE_CURSORS:
                self._idle.append((made_on, cursor))
                return
        cursor.close()

    def _connection(self) -> duckdb.DuckDBPyConnection:
        """The connection to the newest store file (reopened after a swap)."""
        with self._lock:
            now = time.monotonic()
            if self._conn is None or now - self._checked > RECHECK_SECONDS:
                identity = self._current_identity()
                if self._conn is None or identity != self._identity:
                    conn = open_readonly(self.path)
                    facts = data_facts(conn)
                    # the old connection closes when its last cursor is released
                    self._conn, self._identity = conn, identity
                    self._facts = StoreFacts(
                        as_at=facts["as_at"],  # type: ignore[arg-type]
                        synthetic=bool(facts["synthetic"]),
                        deaths=int(facts["deaths"]),  # type: ignore[arg-type]
                        version="-".join(str(part) for part in identity),
                    )
                self._checked = now
            assert self._conn is not None
            return self._conn

    def facts(self) -> StoreFacts:
        self._connection()  # no cursor: facts are read when the file is opened
        assert self._facts is not None
        return self._facts

    def close(self) -> None:
        """Close the idle cursors and the connection (the next request opens the store again).
        For a process that ends while a server thread still holds the store (Werkzeug's reloader
        restarting): DuckDB then sees its objects freed, instead of reporting them as leaks."""
        with self._lock:
            idle, self._idle = self._idle, []
            conn, self._conn, self._identity = self._conn, None, None
        for _, cursor in idle:
            cursor.close()
        if conn is not None:
            conn.close()

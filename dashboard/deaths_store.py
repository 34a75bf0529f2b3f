"""The web workers' read-only handle on the DuckDB deaths store.

Opened lazily (never at import, so gunicorn can fork safely), one connection
per process and one cursor per request (DuckDB connections are not shared
across threads). When a load swaps in a new store file, the next request sees
the new file: the file's identity is checked at most once a second.
"""

from __future__ import annotations

import os
import threading
import time
from dataclasses import dataclass
from datetime import date
from pathlib import Path

import duckdb

from queries.report import data_facts
from queries.store import StoreUnavailable, open_readonly, use_store

RECHECK_SECONDS = 1.0


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
        self._checked = 0.0

    def _current_identity(self) -> tuple[int, int, int]:
        try:
            stat = os.stat(self.path)
        except FileNotFoundError:
            raise StoreUnavailable(f"no deaths store at {self.path}") from None
        return (stat.st_ino, stat.st_mtime_ns, stat.st_size)

    def cursor(self) -> duckdb.DuckDBPyConnection:
        """A cursor for this request on the newest store file."""
        return use_store(self._connection().cursor())

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

"""A storage for the ``limits`` library kept in the operational store.

``limits`` (behind flask-limiter) ships storages for Redis, memcached and
MongoDB only; the app already has one store shared by every worker (and by
every machine once it is PostgreSQL), so the counters live there, in the
``rate_limits`` table, written with portable SQLAlchemy Core. Only what the
fixed-window strategy needs: a counter per key that starts again once its
window has passed. No Flask here.

Counters of the scopes named in ``batched_scopes`` (the server-time budget,
charged on every callback) are added up in the worker and written at most
once per ``FLUSH_SECONDS`` or ``FLUSH_AMOUNT``, and read back at most once per
``FLUSH_SECONDS``: a database write on every filter change cost as much as a
fifth of the app's own time. The shared count then lags the truth by at most
that much per worker, a small part of a budget of many seconds. Other
counters (downloads, counted one by one) are written at once.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Iterable
from dataclasses import dataclass
from typing import ClassVar

from limits.storage import Storage
from sqlalchemy import Connection, Engine, case, delete, func, insert, literal, select, update
from sqlalchemy.exc import IntegrityError, SQLAlchemyError

from operational.tables import rate_limits

SCHEME = "cdop-operational"
FLUSH_SECONDS = 1.0
FLUSH_AMOUNT = 250  # in the counter's own units: milliseconds for the server-time budget


@dataclass
class _Batch:
    """A batched key in this worker: the count last read from the store, when, and what is not yet written."""

    stored: int = 0
    read_at: float = float("-inf")
    pending: int = 0


class OperationalStorage(Storage):
    """Counters in the ``rate_limits`` table. Built by flask-limiter from
    ``storage_uri="cdop-operational://"`` and ``storage_options={"engine": engine}``."""

    STORAGE_SCHEME: ClassVar[list[str]] = [SCHEME]  # registers the scheme with `limits`

    def __init__(self, uri: str | None = None, wrap_exceptions: bool = False, **options: object) -> None:
        engine = options.get("engine")
        if not isinstance(engine, Engine):
            raise ValueError("OperationalStorage needs the operational store's engine: storage_options={'engine': ...}")
        self.engine = engine
        scopes = options.get("batched_scopes", ())
        self.batched_scopes = frozenset(scopes if isinstance(scopes, Iterable) and not isinstance(scopes, str) else ())
        self._batches: dict[str, _Batch] = {}
        self._lock = threading.Lock()  # the built-in server serves requests on threads
        super().__init__(uri, wrap_exceptions=wrap_exceptions)

    def _batch(self, key: str) -> _Batch | None:
        """The worker's batch for ``key`` if its scope is batched (keys read LIMITER/<prefix>/<who>/<scope>/...)."""
        parts = key.split("/", 4)
        if len(parts) < 4 or parts[3] not in self.batched_scopes:
            return None
        return self._batches.setdefault(key, _Batch())

    @property
    def base_exceptions(self) -> type[Exception] | tuple[type[Exception], ...]:
        return SQLAlchemyError

    def incr(self, key: str, expiry: int, amount: int = 1) -> int:
        """Add ``amount`` to the key's count (starting a new window of ``expiry``
        seconds if the last one has passed) and return the new count."""
        with self._lock:
            batch = self._batch(key)
            if batch is None:
                return self._write(key, expiry, amount)
            batch.pending += amount
            now = time.monotonic()
            if batch.pending < FLUSH_AMOUNT and now - batch.read_at < FLUSH_SECONDS:
                return batch.stored + batch.pending
            batch.stored, batch.read_at, batch.pending = self._write(key, expiry, batch.pending), now, 0
            return batch.stored

    def flush(self, expiry: int) -> None:
        """Write every batched amount not yet written (each into a window of ``expiry`` seconds if it starts one)."""
        with self._lock:
            for key, batch in self._batches.items():
                if batch.pending:
                    batch.stored = self._write(key, expiry, batch.pending)
                    batch.read_at, batch.pending = time.monotonic(), 0

    def _write(self, key: str, expiry: int, amount: int) -> int:
        for attempt in range(3):
            try:
                with self.engine.begin() as db:
                    hits = self._add(db, key, expiry, amount)
                    if hits is None:
                        db.execute(insert(rate_limits).values(key=key, hits=amount, expires_at=time.time() + expiry))
                        hits = amount
                    return hits
            except IntegrityError:
                # another worker inserted the same key between our update and insert: add to theirs
                if attempt == 2:
                    raise
        raise AssertionError("unreachable")

    @staticmethod
    def _add(db: Connection, key: str, expiry: int, amount: int) -> int | None:
        """The key's new count, or None if it has no row yet. One statement, so two
        workers adding at once cannot lose a count; with RETURNING (SQLite 3.35+,
        PostgreSQL) a callback's charge is a single round trip."""
        now = time.time()
        passed = rate_limits.c.expires_at <= now
        statement = (
            update(rate_limits)
            .where(rate_limits.c.key == key)
            .values(
                hits=case((passed, literal(amount)), else_=rate_limits.c.hits + amount),
                expires_at=case((passed, literal(now + expiry)), else_=rate_limits.c.expires_at),
            )
        )
        if db.dialect.update_returning:
            hits = db.execute(statement.returning(rate_limits.c.hits)).scalar_one_or_none()
            return None if hits is None else int(hits)
        if db.execute(statement).rowcount == 0:
            return None
        return int(db.execute(select(rate_limits.c.hits).where(rate_limits.c.key == key)).scalar_one())

    def get(self, key: str) -> int:
        with self._lock:
            batch = self._batch(key)
            if batch is None:
                return self._read(key)
            now = time.monotonic()
            if now - batch.read_at >= FLUSH_SECONDS:
                batch.stored, batch.read_at = self._read(key), now
            return batch.stored + batch.pending

    def _read(self, key: str) -> int:
        query = select(rate_limits.c.hits).where((rate_limits.c.key == key) & (rate_limits.c.expires_at > time.time()))
        with self.engine.connect() as db:
            hits = db.execute(query).scalar_one_or_none()
        return int(hits or 0)

    def get_expiry(self, key: str) -> float:
        """When the key's window ends (now, if it has no live window: as ``limits``' memory storage)."""
        now = time.time()
        query = select(rate_limits.c.expires_at).where((rate_limits.c.key == key) & (rate_limits.c.expires_at > now))
        with self.engine.connect() as db:
            ends = db.execute(query).scalar_one_or_none()
        return float(ends) if ends is not None else now

    def check(self) -> bool:
        try:
            with self.engine.connect() as db:
                db.execute(select(func.count()).select_from(rate_limits))
        except SQLAlchemyError:
            return False
        return True

    def reset(self) -> int | None:
        with self._lock:
            self._batches.clear()
        with self.engine.begin() as db:
            return db.execute(delete(rate_limits)).rowcount

    def clear(self, key: str) -> None:
        with self._lock:
            self._batches.pop(key, None)
        with self.engine.begin() as db:
            db.execute(delete(rate_limits).where(rate_limits.c.key == key))

"""Opening the DuckDB deaths store.

Readers (web workers) open the file read-only. Writers (loads, the demo build)
never write the live file: they work on a private copy and swap it in with an
atomic rename only when everything succeeded, so a failed load leaves the
previous store exactly as it was and readers are never locked out.
"""

from __future__ import annotations

import fcntl
import os
import shutil
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import duckdb


class StoreUnavailable(RuntimeError):
    """The deaths store is missing, locked or unreadable."""


class StoreOutdated(StoreUnavailable):
    """The store's schema is not the one this version of the app reads."""


class StoreBusy(RuntimeError):
    """Another process is already writing the store."""


CATALOG = "deaths_store"


# DuckDB's allocator keeps what a query freed for the next one and gives it back to the system only
# while it is allocating more: a worker that answered a large query held that memory (about 25 MB at
# 100x) for as long as it stayed idle. A background thread gives it back after a second or so idle.
ALLOCATOR = {"allocator_background_threads": True}


def open_readonly(path: Path) -> duckdb.DuckDBPyConnection:
    """A read-only connection to the store file as it is now.

    DuckDB caches one database instance per file path in a process, so
    ``duckdb.connect(path)`` after a swap would hand back the old file's
    instance for as long as any connection to it lives. Attaching the file to
    a fresh in-memory instance always reads the file that is there now.
    Cursors made from this connection must run ``use_store`` first.
    """
    if not path.exists():
        raise StoreUnavailable(f"no deaths store at {path}")
    conn = duckdb.connect(":memory:", config=ALLOCATOR)
    try:
        quoted = str(path).replace("'", "''")
        conn.execute(f"ATTACH '{quoted}' AS {CATALOG} (READ_ONLY)")
        use_store(conn)
        return conn
    except duckdb.Error as error:
        conn.close()
        first_line = str(error).splitlines()[0] if str(error) else type(error).__name__
        raise StoreUnavailable(f"cannot open the deaths store at {path}: {first_line}") from error


def use_store(conn: duckdb.DuckDBPyConnection) -> duckdb.DuckDBPyConnection:
    """Point a connection or cursor made by ``open_readonly`` at the store."""
    conn.execute(f"USE {CATALOG}")
    return conn


@contextmanager
def rewrite(path: Path, *, fresh: bool = False) -> Iterator[duckdb.DuckDBPyConnection]:
    """Yield a writable connection to a copy of the store (an empty one if
    ``fresh``), and replace the store with it only if the block succeeds."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with _writer_lock(path):
        work = path.with_name(f"{path.name}.new-{os.getpid()}")
        _remove_store_files(work)
        if path.exists() and not fresh:
            shutil.copyfile(path, work)
            wal = Path(f"{path}.wal")
            if wal.exists():
                shutil.copyfile(wal, Path(f"{work}.wal"))
        conn = duckdb.connect(str(work))
        try:
            yield conn
            conn.execute("CHECKPOINT")
            conn.close()
            os.replace(work, path)
        except BaseException:
            conn.close()
            _remove_store_files(work)
            raise


@contextmanager
def _writer_lock(path: Path) -> Iterator[None]:
    lock_path = path.with_name(f"{path.name}.lock")
    with lock_path.open("w") as handle:
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            raise StoreBusy("another load or demo build is writing the store; try again when it ends") from None
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def _remove_store_files(path: Path) -> None:
    for candidate in (path, Path(f"{path}.wal")):
        candidate.unlink(missing_ok=True)


def copy_store(path: Path, dest: Path) -> None:
    """A copy of the store file as it is, taken while no load is swapping it (the writers' lock)."""
    if not path.exists():
        raise StoreUnavailable(f"no deaths store at {path}")
    with _writer_lock(path):
        shutil.copyfile(path, dest)


def install_store(path: Path, copy: Path) -> None:
    """Put a copy of the file ``copy`` in place of the store, whole, as a load does: readers switch to it."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with _writer_lock(path):
        work = path.with_name(f"{path.name}.new-{os.getpid()}")
        _remove_store_files(work)
        shutil.copyfile(copy, work)
        os.replace(work, path)


def row_counts(path: Path) -> dict[str, int]:
    """Rows in each table of the store file at ``path``."""
    conn = open_readonly(path)
    try:
        names = [
            row[0]
            for row in conn.execute(
                "SELECT table_name FROM information_schema.tables WHERE table_catalog = ? ORDER BY table_name",
                [CATALOG],
            ).fetchall()
        ]
        return {name: int(conn.execute(f'SELECT count(*) FROM "{name}"').fetchall()[0][0]) for name in names}
    finally:
        conn.close()

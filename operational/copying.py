"""Copying the operational store into another database: how a deployment moves from its SQLite
file to PostgreSQL (``python app.py operational copy --to URL``).

Every table, in an order that keeps foreign keys whole, in one transaction on the target: it
refuses a target that holds any row, and keeps nothing unless every table's count then matches
the source's. Run it with the app stopped, so that the source does not change meanwhile.
"""

from __future__ import annotations

from sqlalchemy import Connection, Engine, Table, func, insert, select

from operational.database import sync_sequences
from operational.tables import metadata

BATCH = 2_000


class CopyRefused(ValueError):
    """Why a copy was refused or undone, in one line."""


def row_counts(db: Connection) -> dict[str, int]:
    """Rows in every table of the store, by table."""
    return {table.name: int(db.execute(select(func.count()).select_from(table)).scalar_one()) for table in _tables()}


def copy_store(source: Engine, target: Engine) -> dict[str, int]:
    """Copy every row of ``source`` into ``target`` (both already at the newest migration);
    returns the rows copied by table."""
    with source.connect() as src, target.begin() as dst:
        held = [name for name, count in row_counts(dst).items() if count]
        if held:
            raise CopyRefused(f"the target store is not empty ({', '.join(held)}): copy into a new, empty database")
        expected = row_counts(src)
        for table in _tables():
            _copy_table(src, dst, table)
        sync_sequences(dst, _tables())
        copied = row_counts(dst)
        if copied != expected:
            wrong = ", ".join(f"{name} {copied[name]} of {n}" for name, n in expected.items() if copied[name] != n)
            # raised inside the transaction: it rolls back
            raise CopyRefused(f"the counts differ after copying ({wrong}): nothing was kept")
    return copied


def _tables() -> list[Table]:
    return list(metadata.sorted_tables)  # parents before children


def _copy_table(src: Connection, dst: Connection, table: Table) -> None:
    rows = src.execute(select(table).order_by(*table.primary_key.columns)).mappings()
    while batch := rows.fetchmany(BATCH):
        dst.execute(insert(table), [dict(row) for row in batch])

"""The managed trust-to-CDOP mapping in the operational store: its history,
the mapping in force, and applying a change.

Web workers may write here (never to the DuckDB deaths store). The mapping's
version is the id of its latest revision: it is part of every cache key that
depends on a scope, so a change reaches every user on their next request.
The first time the app or a command needs the mapping, it is seeded from the
deaths store's reference tables (``data/reference/footprint.csv`` as loaded).
"""

from __future__ import annotations

import threading
from collections import Counter
from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import Any

import duckdb
from sqlalchemy import Engine, insert, select, update
from sqlalchemy.exc import IntegrityError

from operational.database import sync_sequences
from operational.tables import mapping_cdops, mapping_footprint, mapping_revisions, revision_column
from queries.mapping import CdopPeriod, FootprintPeriod, Mapping, mapping_from_store

SEED_REVISION = 1


class MappingConflict(RuntimeError):
    """The mapping changed between a preview and its apply."""


CHANGED_MEANWHILE = "the mapping was changed by someone else since this preview; preview it again"


def latest_revision(engine: Engine) -> int | None:
    with engine.connect() as db:
        return db.execute(select(revision_column())).scalar()


def seed(engine: Engine, mapping: Mapping) -> bool:
    """Copy ``mapping`` in as revision 1. False if the mapping was already
    seeded (several workers may start at once: the revision's fixed id lets only one win)."""
    try:
        with engine.begin() as db:
            db.execute(
                insert(mapping_revisions).values(
                    id=SEED_REVISION,
                    at=_now(),
                    username="system",
                    kind="seed",
                    effective_from=None,
                    reason="the reference mapping of the deaths store (data/reference/footprint.csv)",
                    detail={"cdops": len(mapping.cdops), "footprint_rows": len(mapping.footprint)},
                )
            )
            _insert_rows(db, mapping.cdops, mapping.footprint, SEED_REVISION)
            sync_sequences(db, [mapping_revisions])  # its id was given, not numbered (PostgreSQL)
    except IntegrityError:
        return False
    return True


def load(engine: Engine) -> Mapping:
    """The mapping as it stands now (every row not retired), with its version."""
    with engine.connect() as db:
        version = db.execute(select(revision_column())).scalar()
        cdop_rows = db.execute(
            select(mapping_cdops).where(mapping_cdops.c.retired_by.is_(None)).order_by(mapping_cdops.c.id)
        ).mappings()
        cdops = tuple(_cdop(row) for row in cdop_rows)
        foot_rows = db.execute(
            select(mapping_footprint).where(mapping_footprint.c.retired_by.is_(None)).order_by(mapping_footprint.c.id)
        ).mappings()
        footprint = tuple(_footprint(row) for row in foot_rows)
    return Mapping(cdops=cdops, footprint=footprint, version=f"m{version}")


class MappingSource:
    """Each process's view of the managed mapping: reloaded when its version changes."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        self._lock = threading.Lock()
        self._mapping: Mapping | None = None

    def current(self, conn: duckdb.DuckDBPyConnection, version: int | None = None) -> Mapping:
        """The mapping as it stands; ``version`` is its latest revision when
        this request has already read it (see ``operational.signed_in``)."""
        if version is None:
            version = latest_revision(self.engine)
        if version is None:
            seed(self.engine, mapping_from_store(conn))
            version = latest_revision(self.engine)
        with self._lock:
            if self._mapping is not None and self._mapping.version == f"m{version}":
                return self._mapping
        mapping = load(self.engine)
        with self._lock:
            self._mapping = mapping
        return mapping


def ensure_seeded(engine: Engine, conn: duckdb.DuckDBPyConnection) -> Mapping:
    return MappingSource(engine).current(conn)


@dataclass(frozen=True)
class Applied:
    revision: int
    retired: int
    added: int


def apply(
    engine: Engine,
    old: Mapping,
    new: Mapping,
    *,
    username: str,
    kind: str,
    effective_from: date | None,
    reason: str,
    detail: dict[str, Any],
) -> Applied:
    """Record ``new`` in place of ``old`` as one revision, all or nothing:
    rows only in ``old`` are retired, rows only in ``new`` added. Refused if the
    mapping is no longer ``old`` (someone else changed it since the preview)."""
    retired_cdops, added_cdops = _diff(old.cdops, new.cdops)
    retired_rows, added_rows = _diff(old.footprint, new.footprint)
    with engine.begin() as db:
        current = db.execute(select(revision_column())).scalar()
        if f"m{current}" != old.version:
            raise MappingConflict(CHANGED_MEANWHILE)
        revision = db.execute(
            insert(mapping_revisions).values(
                at=_now(),
                username=username,
                kind=kind,
                effective_from=effective_from,
                reason=reason,
                detail=detail,
            )
        ).inserted_primary_key[0]
        for table, rows in ((mapping_cdops, retired_cdops), (mapping_footprint, retired_rows)):
            for row in rows:
                done = db.execute(
                    update(table)
                    .where((table.c.id == row.row_id) & table.c.retired_by.is_(None))
                    .values(retired_by=revision)
                )
                if done.rowcount != 1:
                    raise MappingConflict(CHANGED_MEANWHILE)
        _insert_rows(db, added_cdops, added_rows, revision)
    return Applied(
        revision=int(revision), retired=len(retired_cdops) + len(retired_rows), added=len(added_cdops) + len(added_rows)
    )


def _diff(old: tuple[Any, ...], new: tuple[Any, ...]) -> tuple[list[Any], list[Any]]:
    """Rows of ``old`` not in ``new`` (to retire) and of ``new`` not in ``old`` (to add), by value."""
    keep = Counter(new)
    retired = []
    for row in old:
        if keep[row] > 0:
            keep[row] -= 1
        else:
            retired.append(row)
    had = Counter(old)
    added = []
    for row in new:
        if had[row] > 0:
            had[row] -= 1
        else:
            added.append(row)
    return retired, added


def revisions(engine: Engine, limit: int = 200) -> list[dict[str, Any]]:
    with engine.connect() as db:
        query = select(mapping_revisions).order_by(mapping_revisions.c.id.desc()).limit(limit)
        return [dict(row) for row in db.execute(query).mappings()]


def footprint_history(
    engine: Engine, trust_code: str | None = None, cdop_code: str | None = None
) -> list[dict[str, Any]]:
    """Every footprint row ever recorded for a trust or a CDOP, retired ones
    included, with the revisions that added and retired it."""
    query = select(mapping_footprint).order_by(
        mapping_footprint.c.trust_code, mapping_footprint.c.valid_from, mapping_footprint.c.id
    )
    if trust_code:
        query = query.where(mapping_footprint.c.trust_code == trust_code)
    if cdop_code:
        query = query.where(mapping_footprint.c.cdop_code == cdop_code)
    with engine.connect() as db:
        return [dict(row) for row in db.execute(query).mappings()]


def cdop_history(engine: Engine, cdop_code: str | None = None) -> list[dict[str, Any]]:
    query = select(mapping_cdops).order_by(mapping_cdops.c.cdop_code, mapping_cdops.c.valid_from, mapping_cdops.c.id)
    if cdop_code:
        query = query.where(mapping_cdops.c.cdop_code == cdop_code)
    with engine.connect() as db:
        return [dict(row) for row in db.execute(query).mappings()]


def _insert_rows(db: Any, cdops: Any, footprint: Any, revision: int) -> None:
    if cdops:
        db.execute(
            insert(mapping_cdops),
            [
                {
                    "cdop_code": c.code,
                    "cdop_name": c.name,
                    "region_code": c.region_code,
                    "la_codes": ";".join(c.la_codes),
                    "valid_from": c.valid_from,
                    "valid_to": c.valid_to,
                    "successor_code": c.successor,
                    "basis": c.basis,
                    "added_by": revision,
                }
                for c in cdops
            ],
        )
    if footprint:
        db.execute(
            insert(mapping_footprint),
            [
                {
                    "trust_code": f.trust_code,
                    "cdop_code": f.cdop_code,
                    "valid_from": f.valid_from,
                    "valid_to": f.valid_to,
                    "added_by": revision,
                }
                for f in footprint
            ],
        )


def _cdop(row: Any) -> CdopPeriod:
    return CdopPeriod(
        code=row["cdop_code"],
        name=row["cdop_name"],
        region_code=row["region_code"],
        la_codes=tuple(c for c in row["la_codes"].split(";") if c),
        valid_from=row["valid_from"],
        valid_to=row["valid_to"],
        successor=row["successor_code"],
        basis=row["basis"],
        row_id=row["id"],
    )


def _footprint(row: Any) -> FootprintPeriod:
    return FootprintPeriod(row["trust_code"], row["cdop_code"], row["valid_from"], row["valid_to"], row_id=row["id"])


def _now() -> datetime:
    return datetime.now(UTC).replace(tzinfo=None)

"""Load validated extract rows into the deaths store, all or nothing.

Good rows are upserted on ``case_id`` (a reload of the same extract changes
nothing; a newer one updates the cases that changed). Rejected rows go to the
``quarantine`` table and to a CSV report beside the store. The store is only
replaced when the whole load has succeeded (see ``queries.store.rewrite``).
"""

from __future__ import annotations

import secrets
import sys
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime
from pathlib import Path

import duckdb
import polars as pl

from ingest.extract import EXTRACT_COLUMNS, SOURCE_ROW, ExtractUnusable, read_extract
from ingest.reference import Reference, install_reference, read_reference, with_managed_cdops
from ingest.validate import KnownCodes, Validated, validate
from queries import codes
from queries.export import neutralise_formulas
from queries.mapping import CdopPeriod
from queries.schema import create_schema, get_meta, refresh_report_facts, set_meta
from queries.store import rewrite
from settings import Settings

# Every extract column but the key: a change in any of them makes the case "updated".
HASHED_COLUMNS = tuple(c for c in EXTRACT_COLUMNS if c != "case_id")


@dataclass(frozen=True)
class LoadSummary:
    load_id: int
    source_name: str
    rows_read: int
    rows_new: int
    rows_updated: int
    rows_unchanged: int
    rows_rejected: int
    report_path: Path | None
    synthetic: bool
    ignored_columns: tuple[str, ...] = ()

    @property
    def exit_code(self) -> int:
        return 3 if self.rows_rejected else 0

    def describe(self) -> str:
        text = (
            f"{self.source_name}: read {self.rows_read:,} rows; {self.rows_new:,} new, "
            f"{self.rows_updated:,} updated, {self.rows_unchanged:,} unchanged, {self.rows_rejected:,} rejected"
        )
        if self.report_path:
            text += f"\nrejected rows and their reasons: {self.report_path}"
        if self.ignored_columns:
            text += f"\nignored columns not in the extract format: {', '.join(self.ignored_columns)}"
        return text


def known_codes(reference: Reference) -> KnownCodes:
    return KnownCodes(
        site_codes=frozenset(reference.sites["site_code"]),
        cdop_codes=frozenset(reference.cdops["cdop_code"]),
        england_la_codes=frozenset(reference.local_authorities["la_code"]),
    )


def load_file(
    path: Path,
    settings: Settings,
    *,
    replace: bool = False,
    progress: bool = True,
    managed_cdops: Sequence[CdopPeriod] = (),
) -> LoadSummary:
    """``python app.py load PATH``: read, validate and load one extract file.
    ``managed_cdops``: the CDOPs of the managed mapping (a merger's new CDOP may review deaths)."""
    extract = read_extract(path, max_bytes=settings.max_extract_mb * 1_000_000, progress=progress)
    summary = load_rows(
        extract.rows,
        settings,
        source_name=extract.source_name,
        source_sha256=extract.sha256,
        replace=replace,
        as_at=date.today(),
        progress=progress,
        managed_cdops=managed_cdops,
    )
    return LoadSummary(**{**summary.__dict__, "ignored_columns": extract.ignored_columns})


def load_rows(
    rows: pl.DataFrame,
    settings: Settings,
    *,
    source_name: str,
    source_sha256: str | None,
    replace: bool,
    as_at: date,
    progress: bool = False,
    managed_cdops: Sequence[CdopPeriod] = (),
) -> LoadSummary:
    """Validate text rows (the extract format) and load the good ones in one swap."""
    reference = with_managed_cdops(read_reference(settings.reference_dir), managed_cdops, date.today())
    if SOURCE_ROW not in rows.columns:  # rows made in memory: number them as a file would
        rows = rows.with_row_index(SOURCE_ROW, offset=2).with_columns(pl.col(SOURCE_ROW).cast(pl.Int64))
    _say(progress, f"validating {rows.height:,} rows")
    validated = validate(rows, known_codes(reference), today=date.today())
    synthetic = _synthetic(validated.good, source_name)
    if validated.good.height == 0:
        report = _write_report(settings, validated, load_id=0)
        raise ExtractUnusable(
            f"{source_name}: no row could be loaded; all {rows.height:,} rows were rejected (reasons in {report})"
        )
    _say(progress, "writing the deaths store")
    with rewrite(settings.store_path, fresh=replace) as conn:
        create_schema(conn)
        _refuse_mixing(conn, synthetic, source_name)
        install_reference(conn, reference)
        load_id = int(conn.execute("SELECT coalesce(max(load_id), 0) + 1 FROM load_runs").fetchall()[0][0])
        new, updated, unchanged = _upsert(conn, validated.good, load_id)
        _quarantine(conn, validated.rejected, load_id)
        conn.execute(
            "INSERT INTO load_runs VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            [
                load_id,
                source_name,
                source_sha256,
                datetime.now(UTC).replace(tzinfo=None),
                rows.height,
                new,
                updated,
                unchanged,
                validated.rejected.height,
                synthetic,
            ],
        )
        set_meta(conn, "data_as_at", as_at.isoformat())  # before the facts: open reviews are aged to it
        refresh_report_facts(conn)  # after load_runs: each case carries the time its first load finished
    report = _write_report(settings, validated, load_id) if validated.rejected.height else None
    return LoadSummary(
        load_id=load_id,
        source_name=source_name,
        rows_read=rows.height,
        rows_new=new,
        rows_updated=updated,
        rows_unchanged=unchanged,
        rows_rejected=validated.rejected.height,
        report_path=report,
        synthetic=synthetic,
    )


def _say(progress: bool, message: str) -> None:
    if progress:
        print(f"… {message}", file=sys.stderr, flush=True)


def _synthetic(good: pl.DataFrame, source_name: str) -> bool:
    flags = good["case_id"].str.starts_with(codes.DEMO_CASE_PREFIX)
    if flags.any() and not flags.all():
        raise ExtractUnusable(
            f"{source_name}: mixes synthetic ({codes.DEMO_CASE_PREFIX}...) and real case ids; load them separately"
        )
    return bool(flags.any())


def _refuse_mixing(conn: duckdb.DuckDBPyConnection, synthetic: bool, source_name: str) -> None:
    """A store holds real deaths or synthetic ones, never both, so that the
    synthetic-data notice can never be wrong."""
    row = conn.execute("SELECT bool_or(starts_with(case_id, ?)) FROM deaths", [codes.DEMO_CASE_PREFIX]).fetchall()[0]
    holds_synthetic = row[0]
    if holds_synthetic is None or bool(holds_synthetic) == synthetic:
        return
    held, incoming = ("synthetic demo", "real") if holds_synthetic else ("real", "synthetic")
    raise ExtractUnusable(
        f"{source_name}: the store holds {held} deaths and this extract is {incoming}; "
        "load with --replace to start a new store (the current one is kept until the load succeeds)"
    )


def _upsert(conn: duckdb.DuckDBPyConnection, good: pl.DataFrame, load_id: int) -> tuple[int, int, int]:
    salt = get_meta(conn, "pseudonym_salt")
    if salt is None:
        salt = secrets.token_hex(16)
        set_meta(conn, "pseudonym_salt", salt)
    hashed = ", ".join(f"coalesce(CAST({c} AS VARCHAR), '\u2205')" for c in HASHED_COLUMNS)
    conn.register("incoming_rows", good)
    conn.execute(
        f"""
        CREATE OR REPLACE TEMP TABLE staged AS
        SELECT *, md5_number_lower(concat_ws('|', {hashed})) AS row_hash FROM incoming_rows
        """
    )
    conn.unregister("incoming_rows")
    new, updated, unchanged = conn.execute(
        """
        SELECT count(*) FILTER (WHERE d.case_id IS NULL),
               count(*) FILTER (WHERE d.row_hash <> s.row_hash),
               count(*) FILTER (WHERE d.row_hash = s.row_hash)
        FROM staged AS s LEFT JOIN deaths AS d USING (case_id)
        """
    ).fetchall()[0]
    # a changed case is replaced, but keeps the load that first brought it in
    conn.execute(
        """
        CREATE OR REPLACE TEMP TABLE replaced AS
        SELECT d.case_id, d.first_load_id FROM staged AS s JOIN deaths AS d USING (case_id)
        WHERE d.row_hash <> s.row_hash
        """
    )
    conn.execute("DELETE FROM deaths WHERE case_id IN (SELECT case_id FROM replaced)")
    conn.execute(
        """
        INSERT INTO deaths BY NAME
        SELECT s.* EXCLUDE (case_id), s.case_id,
               'C' || upper(substr(sha256(? || s.case_id), 1, 10)) AS case_ref,
               ? AS load_id,
               coalesce(k.first_load_id, ?) AS first_load_id
        FROM staged AS s ANTI JOIN deaths AS d USING (case_id)
        LEFT JOIN replaced AS k USING (case_id)
        ORDER BY s.date_of_death
        """,
        [salt, load_id, load_id],
    )
    conn.execute("DROP TABLE staged")
    conn.execute("DROP TABLE replaced")
    return int(new), int(updated), int(unchanged)


def _quarantine(conn: duckdb.DuckDBPyConnection, rejected: pl.DataFrame, load_id: int) -> None:
    if rejected.height == 0:
        return
    given = [f"given_{c}" for c in EXTRACT_COLUMNS]
    rows = rejected.select(
        pl.lit(load_id).alias("load_id"),
        SOURCE_ROW,
        "case_id",
        "reasons",
        pl.struct(given).struct.json_encode().alias("raw_row"),
    )
    conn.register("rejected_rows", rows)
    conn.execute("INSERT INTO quarantine SELECT * FROM rejected_rows")
    conn.unregister("rejected_rows")


def _write_report(settings: Settings, validated: Validated, load_id: int) -> Path:
    folder = settings.quarantine_dir
    folder.mkdir(parents=True, exist_ok=True)
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")
    name = f"load-{load_id:04d}-{stamp}-rejected.csv" if load_id else f"refused-{stamp}-rejected.csv"
    path = folder / name
    neutralise_formulas(validated.rejected).write_csv(path)
    return path

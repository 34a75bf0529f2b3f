"""What the administrators' pages and commands read from the deaths store: extract
loads and the rows they rejected, summaries of the reference tables, and whether
a store is an old demo that may be rebuilt.

Not scoped: these are NCMD administrators' views of the whole store. The web
layer refuses everyone else before calling here; these functions only read.
"""

from __future__ import annotations

from pathlib import Path

import duckdb
import polars as pl

from queries.codes import DEMO_CASE_PREFIX
from queries.report import data_facts
from queries.schema import HOSPITAL_UNITS
from queries.store import StoreOutdated, StoreUnavailable, open_readonly


def load_runs(conn: duckdb.DuckDBPyConnection) -> pl.DataFrame:
    """Every extract load, newest first, with its counts (``finished`` as text, UTC to the minute)."""
    return conn.sql(
        """
        SELECT load_id, strftime(finished_at, '%Y-%m-%d %H:%M') AS finished, source_name, rows_read, rows_new,
               rows_updated, rows_unchanged, rows_rejected, synthetic
        FROM load_runs ORDER BY load_id DESC
        """
    ).pl()


def rejected_rows(conn: duckdb.DuckDBPyConnection, load_id: int) -> pl.DataFrame:
    """The rows one load rejected: their row numbers in the file and why (no values: those stay in quarantine)."""
    return conn.sql(
        "SELECT source_row, reasons FROM quarantine WHERE load_id = ? ORDER BY source_row", params=[load_id]
    ).pl()


def english_counts(conn: duckdb.DuckDBPyConnection) -> tuple[int, int]:
    """How many English trusts and English sites the reference tables hold."""
    trusts, sites = conn.execute(
        "SELECT (SELECT count(*) FROM ref_trusts WHERE country = 'England'), "
        "(SELECT count(*) FROM ref_sites WHERE country = 'England')"
    ).fetchall()[0]
    return int(trusts), int(sites)


def inpatient_trusts(conn: duckdb.DuckDBPyConnection) -> pl.DataFrame:
    """English trusts running open inpatient hospital sites: code, name and their sites in one text."""
    units = " OR ".join(f"s.{unit}" for unit in HOSPITAL_UNITS)  # fixed column names, never a caller's
    return conn.sql(
        f"""
        SELECT s.trust_code, t.trust_name, string_agg(s.site_code || ' ' || s.site_name, '; ') AS sites
        FROM ref_sites AS s JOIN ref_trusts AS t USING (trust_code)
        WHERE s.country = 'England' AND s.closed IS NULL AND ({units})
        GROUP BY 1, 2 ORDER BY 1
        """
    ).pl()


def trust_names(conn: duckdb.DuckDBPyConnection, england_only: bool = False) -> dict[str, str]:
    """Trust code -> name, for every trust the reference tables hold (or only the English ones)."""
    where = " WHERE country = 'England'" if england_only else ""
    return dict(conn.execute(f"SELECT trust_code, trust_name FROM ref_trusts{where}").fetchall())


def hospital_trust_codes(conn: duckdb.DuckDBPyConnection) -> frozenset[str]:
    """English trusts with an open inpatient hospital site."""
    units = " OR ".join(HOSPITAL_UNITS)
    rows = conn.execute(
        f"SELECT DISTINCT trust_code FROM ref_sites WHERE country = 'England' AND closed IS NULL AND ({units})"
    ).fetchall()
    return frozenset(str(code) for (code,) in rows)


def outdated_demo(store: Path) -> bool:
    """Whether ``store`` is a synthetic store in an older format (safe to rebuild: real data is never touched)."""
    try:
        conn = open_readonly(store)
    except StoreUnavailable:
        return False
    try:
        data_facts(conn)
        return False
    except StoreOutdated:
        found = conn.execute("SELECT bool_and(starts_with(case_id, ?)) FROM deaths", [DEMO_CASE_PREFIX]).fetchone()
        return bool(found and found[0])
    finally:
        conn.close()

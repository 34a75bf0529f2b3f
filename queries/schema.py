"""The deaths store's tables, and the report rule as the one view queries read.

Reference tables (``ref_*``) mirror data/reference/*.csv. ``deaths`` holds one
row per notified child death, every place of death. ``report_deaths`` applies
the report's rule: the place of death is a hospital site in England.
"""

from __future__ import annotations

import duckdb

from queries import codes

SCHEMA_VERSION = "6"  # 6: report_facts carries each review's band and days to completion
# ref_sites' flags for the units that make a site an inpatient hospital
HOSPITAL_UNITS = ("nicu", "lnu", "scu", "picu", "ed", "maternity", "paediatric_ward")

TABLES = """
CREATE TABLE IF NOT EXISTS meta (key VARCHAR PRIMARY KEY, value VARCHAR NOT NULL);

CREATE TABLE IF NOT EXISTS ref_regions (
    region_code VARCHAR NOT NULL, region_gss_code VARCHAR, region_name VARCHAR NOT NULL);
CREATE TABLE IF NOT EXISTS ref_icbs (
    icb_code VARCHAR NOT NULL, icb_gss_code VARCHAR, icb_name VARCHAR NOT NULL, region_code VARCHAR);
CREATE TABLE IF NOT EXISTS ref_local_authorities (
    la_code VARCHAR NOT NULL, la_name VARCHAR NOT NULL, la_type VARCHAR,
    region_code VARCHAR, icb_code VARCHAR);
CREATE TABLE IF NOT EXISTS ref_cdops (
    cdop_code VARCHAR NOT NULL, cdop_name VARCHAR NOT NULL, region_code VARCHAR,
    valid_from DATE NOT NULL, valid_to DATE, successor_code VARCHAR,
    current_code VARCHAR NOT NULL, basis VARCHAR);
CREATE TABLE IF NOT EXISTS ref_cdop_las (cdop_code VARCHAR NOT NULL, la_code VARCHAR NOT NULL);
CREATE TABLE IF NOT EXISTS ref_trusts (
    trust_code VARCHAR NOT NULL, trust_name VARCHAR NOT NULL, trust_type VARCHAR,
    region_code VARCHAR, country VARCHAR NOT NULL, postcode VARCHAR);
CREATE TABLE IF NOT EXISTS ref_sites (
    site_code VARCHAR NOT NULL, site_name VARCHAR NOT NULL, trust_code VARCHAR NOT NULL,
    postcode VARCHAR, latitude DOUBLE, longitude DOUBLE, lad_code VARCHAR, la_code VARCHAR,
    country VARCHAR NOT NULL, nicu BOOLEAN, lnu BOOLEAN, scu BOOLEAN, picu BOOLEAN, ed BOOLEAN,
    maternity BOOLEAN, paediatric_ward BOOLEAN, opened DATE, closed DATE);
CREATE TABLE IF NOT EXISTS ref_footprint (
    trust_code VARCHAR NOT NULL, cdop_code VARCHAR NOT NULL, valid_from DATE NOT NULL, valid_to DATE);

CREATE TABLE IF NOT EXISTS deaths (
    case_id VARCHAR NOT NULL,
    case_ref VARCHAR NOT NULL,
    date_of_death DATE NOT NULL,
    notification_date DATE NOT NULL,
    age_at_death_days INTEGER NOT NULL,
    age_group VARCHAR NOT NULL,
    sex VARCHAR NOT NULL,
    ethnic_group VARCHAR NOT NULL,
    imd_decile TINYINT,
    place_of_death_type VARCHAR NOT NULL,
    site_code VARCHAR,
    place_in_hospital VARCHAR,
    residence_la_code VARCHAR,
    reviewing_cdop_code VARCHAR,
    expected_death VARCHAR NOT NULL,
    review_status VARCHAR NOT NULL,
    review_completed_date DATE,
    category_of_death TINYINT,
    financial_year SMALLINT NOT NULL,
    row_hash UBIGINT NOT NULL,
    load_id INTEGER NOT NULL,  -- the load that last wrote the case
    first_load_id INTEGER NOT NULL  -- the load that brought it into the store (kept by later updates)
);

CREATE TABLE IF NOT EXISTS load_runs (
    load_id INTEGER NOT NULL, source_name VARCHAR NOT NULL, source_sha256 VARCHAR,
    finished_at TIMESTAMP NOT NULL, rows_read INTEGER, rows_new INTEGER, rows_updated INTEGER,
    rows_unchanged INTEGER, rows_rejected INTEGER, synthetic BOOLEAN NOT NULL);

CREATE TABLE IF NOT EXISTS quarantine (
    load_id INTEGER NOT NULL, source_row INTEGER NOT NULL, case_id VARCHAR,
    reasons VARCHAR NOT NULL, raw_row VARCHAR NOT NULL);
"""

# The report's rule, in one place: deaths whose place of death is a hospital
# site in England. Every scoped query reads this view, never ``deaths``.
REPORT_VIEW = """
CREATE OR REPLACE VIEW report_deaths AS
SELECT d.*, s.trust_code, s.site_name, s.la_code AS site_la_code
FROM deaths AS d
JOIN ref_sites AS s ON s.site_code = d.site_code
WHERE d.place_of_death_type = 'hospital' AND s.country = 'England';
"""


OPEN_REVIEW_STATUSES = ("notified", "under_review")


def review_band_sql(end: str, start: str = "date_of_death") -> str:
    """The band (``within_6m``, ``6_to_12m``, ``over_12m``) of the time from ``start``
    to ``end`` (SQL expressions): the calendar-month rule of ``queries.report.timeliness``."""
    return f"""CASE WHEN {end} <= {start} + INTERVAL 6 MONTH THEN 'within_6m'
                    WHEN {end} <= {start} + INTERVAL 12 MONTH THEN '6_to_12m'
                    ELSE 'over_12m' END"""


_OPEN = ", ".join(f"'{status}'" for status in OPEN_REVIEW_STATUSES)
_AS_AT = "(SELECT CAST(value AS DATE) FROM meta WHERE key = 'data_as_at')"

# The view's rows materialised, with what every query needs already joined and
# derived, in scope order (trust, then date) so that DuckDB skips the row
# groups of other trusts. Rebuilt by every load, after the reference tables.
REPORT_FACTS = f"""
CREATE OR REPLACE TABLE report_facts AS
SELECT r.case_ref, r.date_of_death, r.financial_year,
       CAST((month(r.date_of_death) + 8) % 12 // 3 + 1 AS TINYINT) AS fy_quarter,
       CAST(date_trunc('month', r.date_of_death) AS DATE) AS month,
       r.age_group, r.sex, r.expected_death, r.place_in_hospital, r.site_code, r.site_name,
       r.trust_code, t.trust_name, r.residence_la_code,
       -- where the child lived, as far as it does not depend on who is looking
       CASE
           WHEN r.residence_la_code LIKE 'E%' THEN 'england'
           WHEN r.residence_la_code IN ({", ".join(f"'{c}'" for c in codes.RESIDENCE_OTHER_UK)}) THEN 'uk_other'
           WHEN r.residence_la_code = '{codes.RESIDENCE_OUTSIDE_UK}' THEN 'outside_uk'
           ELSE 'not_known'
       END AS residence_class,
       r.reviewing_cdop_code,
       c.cdop_name AS reviewing_cdop_name, r.review_status, r.notification_date,
       r.review_completed_date, r.category_of_death,  -- for review timeliness and categories
       -- each review's timeliness, worked out once here rather than per row of every query:
       -- a completed review's band and days from death, an open one's age at the data's as-at date
       CASE WHEN r.review_status = 'completed' THEN {review_band_sql("r.review_completed_date", "r.date_of_death")}
       END AS completion_band,
       CASE WHEN r.review_status = 'completed' THEN r.review_completed_date - r.date_of_death END AS completion_days,
       CASE WHEN r.review_status IN ({_OPEN}) THEN {review_band_sql(_AS_AT, "r.date_of_death")} END AS open_band,
       lr.finished_at AS first_loaded_at,
       -- reviewed by a CDOP that is neither where the child lived nor one whose
       -- footprint holds the hospital (CDOPs that merged count as their successor)
       coalesce(
           c.current_code NOT IN (
               SELECT rc.current_code FROM ref_cdop_las AS l JOIN ref_cdops AS rc USING (cdop_code)
               WHERE l.la_code = r.residence_la_code
               UNION
               SELECT hc.current_code FROM ref_footprint AS fp JOIN ref_cdops AS hc USING (cdop_code)
               WHERE fp.trust_code = r.trust_code
           ),
           false
       ) AS reviewer_elsewhere
FROM report_deaths AS r
JOIN ref_trusts AS t ON t.trust_code = r.trust_code
LEFT JOIN ref_cdops AS c ON c.cdop_code = r.reviewing_cdop_code
LEFT JOIN load_runs AS lr ON lr.load_id = r.first_load_id
ORDER BY r.trust_code, r.date_of_death
"""


def refresh_report_facts(conn: duckdb.DuckDBPyConnection) -> None:
    """Rebuild ``report_facts``; open reviews are aged to the store's ``data_as_at``, so set that first."""
    conn.execute(REPORT_FACTS)


# Stores made before schema 4 lack ``first_load_id``: the best that is known
# of their cases is the load that last wrote them (exact for a case never updated).
MIGRATE = """
ALTER TABLE deaths ADD COLUMN IF NOT EXISTS first_load_id INTEGER;
UPDATE deaths SET first_load_id = load_id WHERE first_load_id IS NULL;
"""


def create_schema(conn: duckdb.DuckDBPyConnection) -> None:
    """Create the tables, or bring a store made by an earlier version up to
    this one (run by every load, in the load's own transaction)."""
    conn.execute(TABLES)
    conn.execute(MIGRATE)
    conn.execute(REPORT_VIEW)
    conn.execute("INSERT OR REPLACE INTO meta VALUES ('schema_version', ?)", [SCHEMA_VERSION])


def get_meta(conn: duckdb.DuckDBPyConnection, key: str) -> str | None:
    rows = conn.execute("SELECT value FROM meta WHERE key = ?", [key]).fetchall()
    return str(rows[0][0]) if rows else None


def set_meta(conn: duckdb.DuckDBPyConnection, key: str, value: str) -> None:
    conn.execute("INSERT OR REPLACE INTO meta VALUES (?, ?)", [key, value])

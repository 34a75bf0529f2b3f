"""Building small extract files for tests."""

from __future__ import annotations

import csv
from pathlib import Path

from ingest.extract import EXTRACT_COLUMNS


def row(case_id: str = "NCMD-0001", **changes: str) -> dict[str, str]:
    """A valid extract row: a neonatal death in Leicester Royal Infirmary's NICU."""
    base = {
        "case_id": case_id,
        "date_of_death": "2024-05-01",
        "notification_date": "2024-05-02",
        "age_at_death_days": "3",
        "sex": "male",
        "ethnic_group": "white",
        "place_of_death_type": "hospital",
        "site_code": "RWEAA",
        "place_in_hospital": "nicu",
        "residence_la_code": "E06000016",
        "reviewing_cdop_code": "LLR",
        "expected_death": "yes",
        "review_status": "completed",
        "review_completed_date": "2025-01-10",
        "category_of_death": "8",
        "imd_decile": "3",
    }
    base.update(changes)
    return base


def write_csv(path: Path, rows: list[dict[str, str]], columns: tuple[str, ...] = EXTRACT_COLUMNS) -> Path:
    with path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.DictWriter(handle, fieldnames=list(columns), extrasaction="ignore")
        writer.writeheader()
        writer.writerows(rows)
    return path


def many(count: int, prefix: str = "NCMD") -> list[dict[str, str]]:
    return [row(f"{prefix}-{i:05d}") for i in range(count)]

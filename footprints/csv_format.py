"""Reading an uploaded mapping in the documented ``footprint.csv`` format
(``trust_code, cdop_code, valid_from, valid_to``; see data/README.md).

Every row is checked and every problem reported with its row number (header =
row 1); a file with any problem yields no mapping at all.
"""

from __future__ import annotations

import csv
import io
import re
from dataclasses import replace
from datetime import date

from footprints.changes import MappingInvalid
from queries.codes import cdop_code_problem
from queries.mapping import FootprintPeriod, Mapping

COLUMNS = ("trust_code", "cdop_code", "valid_from", "valid_to")
MAX_BYTES = 500_000  # the request size limit (1 MB) holds it base64-encoded
MAX_ROWS = 20_000
TRUST = re.compile(r"[A-Z0-9]{3}")
SHOWN = 20  # problems listed before "and N more"


def read_footprint_csv(data: bytes) -> list[FootprintPeriod]:
    """The rows of an uploaded file, or ``MappingInvalid`` listing what is wrong."""
    if len(data) > MAX_BYTES:
        raise MappingInvalid([f"the file is larger than {MAX_BYTES // 1000} kB; a mapping is far smaller"])
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise MappingInvalid(["the file is not UTF-8 text; save it as CSV (UTF-8)"]) from None
    reader = csv.DictReader(io.StringIO(text))
    header = [(name or "").strip().lower() for name in reader.fieldnames or []]
    missing = [c for c in COLUMNS if c not in header]
    if missing:
        raise MappingInvalid([f"the header lacks {', '.join(missing)} (expected {','.join(COLUMNS)})"])
    reader.fieldnames = header
    rows: list[FootprintPeriod] = []
    problems: list[str] = []
    for number, raw in enumerate(reader, start=2):
        if number > MAX_ROWS + 1:
            problems.append(f"more than {MAX_ROWS:,} rows; a mapping is far smaller")
            break
        values = {c: str(raw.get(c) or "").strip() for c in COLUMNS}
        if not any(values.values()):
            continue
        row_problems = []
        trust, cdop = values["trust_code"].upper(), values["cdop_code"].upper()
        if not TRUST.fullmatch(trust):
            row_problems.append(f"trust_code {values['trust_code']!r} is not a 3-character ODS code")
        if not cdop:
            row_problems.append("cdop_code is blank")
        elif problem := cdop_code_problem(cdop):
            row_problems.append(problem)
        start = _day(values["valid_from"], "valid_from", row_problems, required=True)
        end = _day(values["valid_to"], "valid_to", row_problems, required=False)
        if row_problems:
            problems += [f"row {number}: {p}" for p in row_problems]
        elif start is not None:
            rows.append(FootprintPeriod(trust, cdop, start, end))
    if not rows and not problems:
        problems.append("the file has no rows")
    if problems:
        raise MappingInvalid(_capped(problems))
    return rows


def with_footprint(mapping: Mapping, rows: list[FootprintPeriod]) -> Mapping:
    """``mapping`` with its footprint replaced by ``rows`` (the CDOPs stay as they are).
    Rows equal to ones in force keep their identity, so only real differences are recorded."""
    return replace(mapping, footprint=tuple(rows))


def _day(text: str, column: str, problems: list[str], *, required: bool) -> date | None:
    if not text:
        if required:
            problems.append(f"{column} is blank")
        return None
    try:
        return date.fromisoformat(text) if len(text) == 10 else _bad(text, column, problems)
    except ValueError:
        return _bad(text, column, problems)


def _bad(text: str, column: str, problems: list[str]) -> None:
    problems.append(f"{column} {text[:30]!r} is not a date as YYYY-MM-DD")
    return None


def _capped(problems: list[str]) -> list[str]:
    if len(problems) <= SHOWN:
        return problems
    return [*problems[:SHOWN], f"and {len(problems) - SHOWN:,} more problems"]

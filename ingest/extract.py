"""Read an NCMD-style extract (CSV or XLSX) into a frame of text columns.

File-level problems (empty, too large, binary, not UTF-8, wrong columns) raise
``ExtractUnusable`` with a one-line message; row-level problems are left to the
validator so that one bad row never costs the good ones.
"""

from __future__ import annotations

import codecs
import hashlib
import zipfile
from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path

import polars as pl
from tqdm import tqdm

REQUIRED_COLUMNS = (
    "case_id",
    "date_of_death",
    "notification_date",
    "age_at_death_days",
    "sex",
    "ethnic_group",
    "place_of_death_type",
    "site_code",
    "place_in_hospital",
    "residence_la_code",
    "reviewing_cdop_code",
    "expected_death",
    "review_status",
    "review_completed_date",
    "category_of_death",
)
OPTIONAL_COLUMNS = ("imd_decile",)
EXTRACT_COLUMNS = REQUIRED_COLUMNS + OPTIONAL_COLUMNS
SOURCE_ROW = "source_row"  # the row number a person sees in a spreadsheet (header = 1)

_ZIP_MAGIC = b"PK\x03\x04"
_CHUNK = 1 << 20
PROGRESS_FROM_BYTES = 5 << 20  # show progress bars for files larger than this


class ExtractUnusable(ValueError):
    """The file cannot be loaded at all; nothing was changed."""


@dataclass(frozen=True)
class Extract:
    rows: pl.DataFrame  # every column text (or null), plus SOURCE_ROW
    source_name: str
    sha256: str
    ignored_columns: tuple[str, ...]


def read_extract(path: Path, *, max_bytes: int, progress: bool = True) -> Extract:
    if not path.exists():
        raise ExtractUnusable(f"{path}: no such file")
    if not path.is_file():
        raise ExtractUnusable(f"{path}: not a file")
    size = path.stat().st_size
    if size == 0:
        raise ExtractUnusable(f"{path.name}: the file is empty")
    if size > max_bytes:
        raise ExtractUnusable(
            f"{path.name}: the file is {_megabytes(size)}, over the {_megabytes(max_bytes)} limit "
            "(set MAX_EXTRACT_MB to raise it)"
        )
    show = progress and size > PROGRESS_FROM_BYTES
    with path.open("rb") as handle:
        head = handle.read(8192)
    row_numbers: list[int] | None = None
    if head.startswith(_ZIP_MAGIC):
        frame, row_numbers = _read_xlsx(path, show)
        digest = _sha256(path)
    else:
        _refuse_binary(path, head)
        digest = _check_utf8(path, size, show)
        frame = _read_csv(path)
    frame, ignored = _normalise_columns(path, frame, row_numbers)
    if frame.height == 0:
        raise ExtractUnusable(f"{path.name}: the file has a header but no rows")
    return Extract(rows=frame, source_name=path.name, sha256=digest, ignored_columns=ignored)


def _megabytes(size: int) -> str:
    return f"{size / 1_000_000:,.0f} MB" if size < 1_000_000_000 else f"{size / 1_000_000_000:,.1f} GB"


def _refuse_binary(path: Path, head: bytes) -> None:
    if head.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        raise ExtractUnusable(f"{path.name}: the file is UTF-16 text; save it as UTF-8 CSV")
    if b"\x00" in head:
        raise ExtractUnusable(f"{path.name}: this looks like a binary file, not a CSV or XLSX extract")


def _check_utf8(path: Path, size: int, show: bool) -> str:
    """Stream the file once: refuse non-UTF-8 text (saying where) and hash it."""
    decoder = codecs.getincrementaldecoder("utf-8")()
    digest = hashlib.sha256()
    line = 1
    with (
        path.open("rb") as handle,
        tqdm(total=size, unit="B", unit_scale=True, desc="checking", disable=not show, leave=False) as bar,
    ):
        while chunk := handle.read(_CHUNK):
            digest.update(chunk)
            try:
                decoder.decode(chunk)
            except UnicodeDecodeError as error:
                bad_line = line + chunk[: error.start].count(b"\n")
                raise ExtractUnusable(
                    f"{path.name}: line {bad_line} is not UTF-8 text; save the extract as UTF-8 CSV"
                ) from None
            line += chunk.count(b"\n")
            bar.update(len(chunk))
        try:
            decoder.decode(b"", final=True)
        except UnicodeDecodeError:
            raise ExtractUnusable(f"{path.name}: the file ends in the middle of a UTF-8 character") from None
    return digest.hexdigest()


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        while chunk := handle.read(_CHUNK):
            digest.update(chunk)
    return digest.hexdigest()


def _read_csv(path: Path) -> pl.DataFrame:
    try:
        return pl.read_csv(
            path,
            infer_schema=False,
            encoding="utf8",
            raise_if_empty=True,
        )
    except (pl.exceptions.PolarsError, OSError) as error:
        detail = str(error).strip().splitlines()[0] if str(error).strip() else type(error).__name__
        raise ExtractUnusable(f"{path.name}: not a readable CSV file ({detail})") from None


def _read_xlsx(path: Path, show: bool) -> tuple[pl.DataFrame, list[int]]:
    from openpyxl import load_workbook  # imported here: only XLSX loads pay for it

    try:
        workbook = load_workbook(path, read_only=True, data_only=True)
    except (zipfile.BadZipFile, KeyError, OSError, ValueError) as error:
        raise ExtractUnusable(f"{path.name}: not a readable XLSX workbook ({type(error).__name__})") from None
    try:
        sheet = workbook.worksheets[0]
        rows = sheet.iter_rows(values_only=True)
        header = next(rows, None)
        if header is None:
            raise ExtractUnusable(f"{path.name}: the first sheet is empty")
        names = [_cell_text(value) or f"column_{i + 1}" for i, value in enumerate(header)]
        columns: list[list[str | None]] = [[] for _ in names]
        row_numbers: list[int] = []
        total = sheet.max_row - 1 if sheet.max_row else None
        rows_read = tqdm(rows, total=total, unit="rows", desc="reading", disable=not show, leave=False)
        for number, row in enumerate(rows_read, start=2):
            if row is None or all(value is None for value in row):
                continue
            row_numbers.append(number)
            for index in range(len(names)):
                columns[index].append(_cell_text(row[index]) if index < len(row) else None)
    finally:
        workbook.close()
    if len(set(names)) != len(names):
        _refuse_duplicates(path, names)
    frame = pl.DataFrame(dict(zip(names, columns, strict=True)), schema={name: pl.String for name in names})
    return frame, row_numbers


def _cell_text(value: object) -> str | None:
    """Spreadsheet cells to the text a CSV would hold (dates as ISO, 12.0 as 12)."""
    if value is None:
        return None
    if isinstance(value, datetime):
        return value.date().isoformat()
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


def _refuse_duplicates(path: Path, names: list[str]) -> None:
    seen: set[str] = set()
    duplicates = sorted({n for n in names if n in seen or seen.add(n)})  # type: ignore[func-returns-value]
    raise ExtractUnusable(f"{path.name}: columns appear more than once: {', '.join(duplicates)}")


def _normalise_columns(
    path: Path, frame: pl.DataFrame, row_numbers: list[int] | None
) -> tuple[pl.DataFrame, tuple[str, ...]]:
    source_rows = (
        pl.Series(SOURCE_ROW, row_numbers, dtype=pl.Int64)
        if row_numbers is not None
        else pl.int_range(2, frame.height + 2, dtype=pl.Int64, eager=True)
    )
    renamed = [name.strip().lower().lstrip("\ufeff") for name in frame.columns]
    if len(set(renamed)) != len(renamed):
        _refuse_duplicates(path, renamed)
    frame = frame.rename(dict(zip(frame.columns, renamed, strict=True)))
    missing = [c for c in REQUIRED_COLUMNS if c not in frame.columns]
    if missing:
        if len(missing) == len(REQUIRED_COLUMNS):
            raise ExtractUnusable(
                f"{path.name}: none of the extract's columns were found; is the first row the header? "
                f"(expected {', '.join(REQUIRED_COLUMNS[:3])}, ...)"
            )
        raise ExtractUnusable(f"{path.name}: missing columns: {', '.join(missing)}")
    ignored = tuple(c for c in frame.columns if c not in EXTRACT_COLUMNS)
    present = [c for c in EXTRACT_COLUMNS if c in frame.columns]
    frame = frame.select(
        source_rows.alias(SOURCE_ROW),
        *(pl.col(c).cast(pl.String) for c in present),
    )
    for column in OPTIONAL_COLUMNS:
        if column not in frame.columns:
            frame = frame.with_columns(pl.lit(None, dtype=pl.String).alias(column))
    return frame, ignored

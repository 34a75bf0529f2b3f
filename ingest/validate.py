"""Validate every row of an extract; split it into typed good rows and rejects.

Each rule is a polars expression, so a national extract (or 100 times one) is
checked in one vectorised pass. A rejected row carries every reason that
applies to it, not just the first.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

import polars as pl

from ingest.extract import EXTRACT_COLUMNS, SOURCE_ROW
from queries import codes

CODE_COLUMNS = (
    "sex",
    "ethnic_group",
    "place_of_death_type",
    "place_in_hospital",
    "expected_death",
    "review_status",
)
UPPER_COLUMNS = ("site_code", "residence_la_code", "reviewing_cdop_code")
ALIASES: dict[str, dict[str, str]] = {
    "sex": {"m": "male", "f": "female", "i": "indeterminate", "u": "not_known", "unknown": "not_known"},
    "ethnic_group": {"unknown": "not_known", "not_stated": "not_known"},
    "place_of_death_type": {"unknown": "not_known"},
    "place_in_hospital": {
        "unknown": "not_known",
        "a&e": "ed",
        "emergency_department": "ed",
        "labour_ward": "delivery_suite",
    },
    "expected_death": {
        "y": "yes",
        "n": "no",
        "true": "yes",
        "false": "no",
        "expected": "yes",
        "unexpected": "no",
        "unknown": "not_known",
    },
    "review_status": {"review_completed": "completed", "closed": "completed", "in_review": "under_review"},
}
CASE_ID_PATTERN = r"^[A-Za-z0-9][A-Za-z0-9_./-]{0,63}$"
DATE_FORMATS = ("%Y-%m-%d", "%d/%m/%Y", "%Y-%m-%d %H:%M:%S")
SHOWN = 40  # characters of a bad value quoted back in a reason


@dataclass(frozen=True)
class KnownCodes:
    """The reference codes an extract row may use."""

    site_codes: frozenset[str]
    cdop_codes: frozenset[str]
    england_la_codes: frozenset[str]


@dataclass(frozen=True)
class Validated:
    good: pl.DataFrame  # typed rows, ready to load
    rejected: pl.DataFrame  # SOURCE_ROW, case_id, reasons, then the row as given


def validate(rows: pl.DataFrame, known: KnownCodes, today: date) -> Validated:
    clean = rows.with_columns(_cleaned(c) for c in EXTRACT_COLUMNS)
    parsed = clean.with_columns(
        _parse_date("date_of_death").alias("dod"),
        _parse_date("notification_date").alias("notified"),
        _parse_date("review_completed_date").alias("completed"),
        pl.col("age_at_death_days").str.to_integer(strict=False).alias("age"),
        pl.col("category_of_death").str.to_integer(strict=False).alias("category"),
        pl.col("imd_decile").str.to_integer(strict=False).alias("imd"),
        pl.len().over("case_id").alias("case_id_rows"),
    ).with_columns(_age_years().alias("age_years"))

    reasons = pl.concat_list(
        [pl.when(broken.fill_null(False)).then(message) for broken, message in _rules(known, today)]
    ).list.drop_nulls()
    checked = parsed.with_columns(reasons.alias("reasons"))
    ok = pl.col("reasons").list.len() == 0
    good = checked.filter(ok).select(
        "case_id",
        pl.col("dod").alias("date_of_death"),
        pl.col("notified").alias("notification_date"),
        pl.col("age").cast(pl.Int32).alias("age_at_death_days"),
        _age_group().alias("age_group"),
        "sex",
        "ethnic_group",
        pl.col("imd").cast(pl.Int8).alias("imd_decile"),
        "place_of_death_type",
        "site_code",
        pl.when(pl.col("place_of_death_type") == "hospital")
        .then(pl.col("place_in_hospital").fill_null("not_known"))
        .alias("place_in_hospital"),
        "residence_la_code",
        "reviewing_cdop_code",
        "expected_death",
        "review_status",
        pl.col("completed").alias("review_completed_date"),
        pl.col("category").cast(pl.Int8).alias("category_of_death"),
        (pl.col("dod").dt.year() - (pl.col("dod").dt.month() < 4).cast(pl.Int32))
        .cast(pl.Int16)
        .alias("financial_year"),
    )
    rejected = checked.filter(~ok).select(SOURCE_ROW, "case_id", pl.col("reasons").list.join("; "))
    raw = rows.select(SOURCE_ROW, *(pl.col(c).alias(f"given_{c}") for c in EXTRACT_COLUMNS))
    rejected = rejected.join(raw, on=SOURCE_ROW, how="left").sort(SOURCE_ROW)
    return Validated(good=good, rejected=rejected)


def _cleaned(column: str) -> pl.Expr:
    value = pl.col(column).str.strip_chars()
    if column in CODE_COLUMNS:
        value = value.str.to_lowercase().str.replace_all(r"[\s\-]+", "_").replace(ALIASES.get(column, {}))
    elif column in UPPER_COLUMNS:
        value = value.str.to_uppercase()
    return pl.when(value.str.len_chars() > 0).then(value).alias(column)


def _parse_date(column: str) -> pl.Expr:
    return pl.coalesce(pl.col(column).str.to_date(fmt, strict=False) for fmt in DATE_FORMATS)


def _age_years() -> pl.Expr:
    """Completed years of age, from the date of death and the age in days."""
    born = pl.col("dod") - pl.duration(days=pl.col("age"))

    def month_day(day: pl.Expr) -> pl.Expr:  # 1 March -> 301; Int32 so that it cannot overflow
        return day.dt.month().cast(pl.Int32) * 100 + day.dt.day().cast(pl.Int32)

    before_birthday = month_day(pl.col("dod")) < month_day(born)
    return pl.col("dod").dt.year() - born.dt.year() - before_birthday.cast(pl.Int32)


def _age_group() -> pl.Expr:
    years = pl.col("age_years")
    return (
        pl.when(years == 0)
        .then(pl.when(pl.col("age") < 28).then(pl.lit("0-27d")).otherwise(pl.lit("28-364d")))
        .when(years <= 4)
        .then(pl.lit("1-4y"))
        .when(years <= 9)
        .then(pl.lit("5-9y"))
        .when(years <= 14)
        .then(pl.lit("10-14y"))
        .otherwise(pl.lit("15-17y"))
    )


def _shown(column: str) -> pl.Expr:
    return pl.col(column).str.slice(0, SHOWN)


def _one_of(column: str, allowed: list[str]) -> tuple[pl.Expr, pl.Expr]:
    return (
        pl.col(column).is_not_null() & ~pl.col(column).is_in(allowed),
        pl.format(f"{column} '{{}}' is not one of: {', '.join(allowed)}", _shown(column)),
    )


def _missing(column: str) -> tuple[pl.Expr, pl.Expr]:
    return pl.col(column).is_null(), pl.lit(f"{column} is missing")


def _bad_date(column: str, parsed: str) -> tuple[pl.Expr, pl.Expr]:
    return (
        pl.col(column).is_not_null() & pl.col(parsed).is_null(),
        pl.format(f"{column} '{{}}' is not a date (use YYYY-MM-DD)", _shown(column)),
    )


def _rules(known: KnownCodes, today: date) -> list[tuple[pl.Expr, pl.Expr]]:
    hospital = pl.col("place_of_death_type") == "hospital"
    completed = pl.col("review_status") == "completed"
    residence_codes = sorted(known.england_la_codes | set(codes.NON_ENGLAND_RESIDENCE))
    return [
        _missing("case_id"),
        (
            pl.col("case_id").is_not_null() & ~pl.col("case_id").str.contains(CASE_ID_PATTERN),
            pl.format(
                "case_id '{}' must be 1-64 letters, digits or . _ / - starting with a letter or digit",
                _shown("case_id"),
            ),
        ),
        (
            pl.col("case_id").is_not_null() & (pl.col("case_id_rows") > 1),
            pl.format("case_id '{}' appears on {} rows of this file", _shown("case_id"), pl.col("case_id_rows")),
        ),
        _missing("date_of_death"),
        _bad_date("date_of_death", "dod"),
        (
            pl.col("dod") < codes.EARLIEST_DEATH,
            pl.lit(f"date_of_death is before {codes.EARLIEST_DEATH:%d %B %Y}, when child death review began"),
        ),
        (pl.col("dod") > today, pl.lit("date_of_death is in the future")),
        _missing("notification_date"),
        _bad_date("notification_date", "notified"),
        (pl.col("notified") < pl.col("dod"), pl.lit("notification_date is before date_of_death")),
        (pl.col("notified") > today, pl.lit("notification_date is in the future")),
        _missing("age_at_death_days"),
        (
            pl.col("age_at_death_days").is_not_null() & (pl.col("age").is_null() | (pl.col("age") < 0)),
            pl.format("age_at_death_days '{}' is not a whole number of days", _shown("age_at_death_days")),
        ),
        (
            pl.col("age_years") >= 18,
            pl.format("age_at_death_days {} means the child was 18 or older at death", pl.col("age")),
        ),
        _missing("sex"),
        _one_of("sex", list(codes.SEXES)),
        _missing("ethnic_group"),
        _one_of("ethnic_group", list(codes.ETHNIC_GROUPS)),
        (
            pl.col("imd_decile").is_not_null() & (pl.col("imd").is_null() | ~pl.col("imd").is_between(1, 10)),
            pl.format("imd_decile '{}' is not a whole number from 1 to 10", _shown("imd_decile")),
        ),
        _missing("place_of_death_type"),
        _one_of("place_of_death_type", list(codes.PLACE_OF_DEATH_TYPES)),
        (hospital & pl.col("site_code").is_null(), pl.lit("site_code is missing for a death in hospital")),
        (
            hospital & pl.col("site_code").is_not_null() & ~pl.col("site_code").is_in(sorted(known.site_codes)),
            pl.format("site_code '{}' is not a known hospital site (data/reference/sites.csv)", _shown("site_code")),
        ),
        (
            ~hospital & pl.col("site_code").is_not_null(),
            pl.format("site_code is given but place_of_death_type is '{}'", _shown("place_of_death_type")),
        ),
        _one_of("place_in_hospital", list(codes.PLACES_IN_HOSPITAL)),
        (
            ~hospital & pl.col("place_in_hospital").is_not_null() & (pl.col("place_in_hospital") != "not_known"),
            pl.format("place_in_hospital is given but place_of_death_type is '{}'", _shown("place_of_death_type")),
        ),
        (
            pl.col("residence_la_code").is_not_null() & ~pl.col("residence_la_code").is_in(residence_codes),
            pl.format(
                "residence_la_code '{}' is neither an English upper-tier local authority GSS code nor "
                "W92000004, S92000003, N92000002 or Z99999999 (outside the UK)",
                _shown("residence_la_code"),
            ),
        ),
        (
            pl.col("reviewing_cdop_code").is_not_null()
            & ~pl.col("reviewing_cdop_code").is_in(sorted(known.cdop_codes)),
            pl.format(
                "reviewing_cdop_code '{}' is not a known CDOP (data/reference/cdops.csv)", _shown("reviewing_cdop_code")
            ),
        ),
        _missing("expected_death"),
        _one_of("expected_death", list(codes.EXPECTED_DEATH)),
        _missing("review_status"),
        _one_of("review_status", list(codes.REVIEW_STATUSES)),
        _bad_date("review_completed_date", "completed"),
        (
            completed & pl.col("review_completed_date").is_null(),
            pl.lit("review_completed_date is missing for a completed review"),
        ),
        (
            ~completed & pl.col("review_completed_date").is_not_null(),
            pl.lit("review_completed_date is given but review_status is not completed"),
        ),
        (pl.col("completed") < pl.col("dod"), pl.lit("review_completed_date is before date_of_death")),
        (pl.col("completed") > today, pl.lit("review_completed_date is in the future")),
        (
            completed & pl.col("category_of_death").is_null(),
            pl.lit("category_of_death is missing for a completed review"),
        ),
        (
            pl.col("category_of_death").is_not_null()
            & (pl.col("category").is_null() | ~pl.col("category").is_between(1, 10)),
            pl.format("category_of_death '{}' is not a whole number from 1 to 10", _shown("category_of_death")),
        ),
        (
            ~completed & pl.col("category_of_death").is_not_null(),
            pl.lit("category_of_death is given but the review is not completed"),
        ),
    ]

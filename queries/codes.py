"""Code lists of the extract and the report, with their display labels.

One place for every coded value: the loader validates against these, the
queries group by them and the dashboard labels them.
"""

from __future__ import annotations

import re
from datetime import date

PLACE_OF_DEATH_TYPES: dict[str, str] = {
    "hospital": "Hospital",
    "hospice": "Hospice",
    "home": "Home",
    "public_place": "Public place",
    "other": "Other",
    "abroad": "Abroad",
    "not_known": "Not known",
}

# Proposed code list (NCMD's own is not public); order is display order.
PLACES_IN_HOSPITAL: dict[str, str] = {
    "nicu": "Neonatal intensive care unit (level 3)",
    "lnu": "Local neonatal unit (level 2)",
    "scu": "Special care unit (level 1)",
    "delivery_suite": "Delivery suite or labour ward",
    "picu": "Paediatric intensive care unit",
    "ed": "Emergency department",
    "paediatric_ward": "Paediatric ward",
    "adult_icu": "Adult intensive care unit",
    "theatre": "Theatre or recovery",
    "other_ward": "Other ward",
    "not_known": "Not known",
}
NEONATAL_UNIT_PLACES = ("nicu", "lnu", "scu")

# NCMD age bands: (code, label, lower bound, upper bound) where bounds are
# days for the first two bands and completed years for the rest.
AGE_GROUPS: dict[str, str] = {
    "0-27d": "0-27 days",
    "28-364d": "28-364 days",
    "1-4y": "1-4 years",
    "5-9y": "5-9 years",
    "10-14y": "10-14 years",
    "15-17y": "15-17 years",
}

SEXES: dict[str, str] = {
    "male": "Male",
    "female": "Female",
    "indeterminate": "Indeterminate",
    "not_known": "Not known",
}

ETHNIC_GROUPS: dict[str, str] = {
    "asian": "Asian or Asian British",
    "black": "Black or Black British",
    "mixed": "Mixed or multiple ethnic groups",
    "white": "White",
    "other": "Other ethnic group",
    "not_known": "Not known",
}

EXPECTED_DEATH: dict[str, str] = {"yes": "Expected", "no": "Unexpected", "not_known": "Not known"}

REVIEW_STATUSES: dict[str, str] = {
    "notified": "Notified",
    "under_review": "Under review",
    "completed": "Review completed",
}

CATEGORIES_OF_DEATH: dict[int, str] = {
    1: "Deliberately inflicted injury, abuse or neglect",
    2: "Suicide or deliberate self-inflicted harm",
    3: "Trauma and other external factors",
    4: "Malignancy",
    5: "Acute medical or surgical condition",
    6: "Chronic medical condition",
    7: "Chromosomal, genetic and congenital anomalies",
    8: "Perinatal/neonatal event",
    9: "Infection",
    10: "Sudden unexpected, unexplained death",
}

# Residence outside England: GSS country codes, and a project code for abroad.
RESIDENCE_WALES = "W92000004"
RESIDENCE_SCOTLAND = "S92000003"
RESIDENCE_NORTHERN_IRELAND = "N92000002"
RESIDENCE_OUTSIDE_UK = "Z99999999"
RESIDENCE_OTHER_UK = (RESIDENCE_WALES, RESIDENCE_SCOTLAND, RESIDENCE_NORTHERN_IRELAND)
NON_ENGLAND_RESIDENCE: dict[str, str] = {
    RESIDENCE_WALES: "Wales",
    RESIDENCE_SCOTLAND: "Scotland",
    RESIDENCE_NORTHERN_IRELAND: "Northern Ireland",
    RESIDENCE_OUTSIDE_UK: "Outside the UK",
}

RESIDENCE_NOT_KNOWN = "not_known"  # the map's area of residence for a child whose home is not known

# A hospital's highest level of intensive care for children, for the map: the first it has, in this order.
HIGHEST_UNITS: dict[str, str] = {
    "picu": "Paediatric intensive care unit",
    "nicu": "Neonatal intensive care unit (level 3)",
    "lnu": "Local neonatal unit (level 2)",
    "scu": "Special care unit (level 1)",
    "none": "No neonatal or paediatric intensive care",
}

# Residence of the child relative to the footprint being viewed.
RESIDENCE_GROUPS: dict[str, str] = {
    "footprint": "Resident of this footprint",
    "england": "Resident elsewhere in England",
    "uk_other": "Resident in Wales, Scotland or Northern Ireland",
    "outside_uk": "Resident outside the UK",
    "not_known": "Residence not known",
}

# Who reviews a death relative to the hospital where it happened.
REVIEW_GROUPS: dict[str, str] = {
    "local": "Reviewed by the local CDOP",
    "other": "Reviewed by another CDOP",
    "unassigned": "Not yet assigned",
}
UNASSIGNED = "UNASSIGNED"  # filter value for "reviewing CDOP not yet assigned"

EARLIEST_DEATH = date(2008, 4, 1)  # statutory child death review began in April 2008
DEMO_CASE_PREFIX = "SYN-"  # synthetic case ids start with this; real ones must not

# CDOP codes: the one rule for every place a code is made or granted (a merger's
# new code, a mapping CSV, the reference data, a user's grant). Upper case only:
# values the app gives a meaning of its own (the footprint chooser's "all
# England") are lower case, so no CDOP code can ever equal one.
CDOP_CODE = re.compile(r"[A-Z][A-Z0-9]{1,9}")
# Words the app (or a person reading a list of codes) takes to mean something
# other than one CDOP; refused whatever their case.
RESERVED_WORDS: dict[str, str] = {
    "ENGLAND": "the all-England view",
    "ALL": "all of a user's CDOPs",
    "MINE": "all of a user's CDOPs",
    UNASSIGNED: "deaths whose reviewing CDOP is not yet assigned",
    "NONE": "no CDOP",
    "NULL": "no CDOP",
}


def cdop_code_problem(code: str) -> str | None:
    """Why ``code`` cannot be a CDOP code (one line), or None if it can."""
    text = code.strip() if isinstance(code, str) else ""
    if text.upper() in RESERVED_WORDS:
        return f"{text.upper()} is a word the app reserves ({RESERVED_WORDS[text.upper()]}), not a CDOP code"
    if not CDOP_CODE.fullmatch(text):
        return f"the CDOP code {text[:30]!r} must be 2-10 capital letters or digits, starting with a letter"
    return None


def financial_year_label(start_year: int) -> str:
    """2024 -> '2024/25' (1 April 2024 to 31 March 2025)."""
    return f"{start_year}/{(start_year + 1) % 100:02d}"


def financial_year_of(day: date) -> int:
    """The start year of the financial year containing ``day``."""
    return day.year if day.month >= 4 else day.year - 1

"""Figures the synthetic generator is calibrated to.

Published figures (England, NCMD annual reports as summarised in the domain
primer) are marked *published*; the rest are modelling assumptions chosen to
reproduce them and to look like real CDOP data, and are marked *assumed*.
"""

from __future__ import annotations

from datetime import date

# published: child deaths notified per financial year (start year -> deaths).
# 2025/26 is not yet published: assumed close to the previous two years.
DEATHS_PER_FINANCIAL_YEAR: dict[int, int] = {
    2019: 3414,
    2020: 3056,
    2021: 3454,
    2022: 3743,
    2023: 3577,
    2024: 3492,
    2025: 3500,
}
FIRST_DAY = date(2019, 4, 1)
AS_AT = date(2026, 3, 31)  # the synthetic extract is "as at" the end of 2025/26

# published: ~61-64% infants, ~42-43% neonates; the older bands are assumed
# from NCMD's typical age profile.
AGE_GROUP_SHARES: dict[str, float] = {
    "0-27d": 0.425,
    "28-364d": 0.200,
    "1-4y": 0.110,
    "5-9y": 0.060,
    "10-14y": 0.085,
    "15-17y": 0.120,
}
MALE_SHARE = 0.56  # published: about 56% boys

# published: deaths per 100,000 children by ethnic group (midpoints of the
# primer's ranges; Mixed and Other assumed). assumed: shares of the child
# population (rounded from the 2021 census for under-18s in England).
ETHNIC_RATE_PER_100K: dict[str, float] = {
    "asian": 49.5,
    "black": 56.5,
    "mixed": 30.0,
    "white": 24.5,
    "other": 33.0,
}
ETHNIC_POPULATION_SHARE: dict[str, float] = {
    "asian": 0.125,
    "black": 0.055,
    "mixed": 0.065,
    "white": 0.725,
    "other": 0.030,
}
ETHNICITY_NOT_KNOWN = 0.02  # assumed

# published: most deprived decile 42-43 per 100,000, least deprived 17; the
# deciles between are assumed to fall evenly. Deciles hold equal populations.
IMD_RATE_MOST_DEPRIVED = 42.5
IMD_RATE_LEAST_DEPRIVED = 17.0
IMD_NOT_KNOWN = 0.03  # assumed

CHILD_POPULATION_ENGLAND = 12_150_000  # assumed: sum of data/synthetic/la_child_population.csv

# Residence of children who die in England but live elsewhere (assumed).
NON_ENGLAND_RESIDENCE_SHARE: dict[str, float] = {
    "W92000004": 0.008,
    "S92000003": 0.002,
    "N92000002": 0.002,
    "Z99999999": 0.006,
}

# assumed: category of death (1-10) by age group, before review reveals it.
CATEGORY_BY_AGE: dict[str, list[float]] = {
    #          1      2     3      4      5     6      7     8      9     10
    "0-27d": [0.003, 0.0, 0.002, 0.004, 0.02, 0.01, 0.30, 0.62, 0.03, 0.011],
    "28-364d": [0.04, 0.0, 0.02, 0.02, 0.10, 0.08, 0.28, 0.12, 0.13, 0.21],
    "1-4y": [0.05, 0.0, 0.10, 0.14, 0.15, 0.10, 0.25, 0.02, 0.12, 0.07],
    "5-9y": [0.03, 0.0, 0.12, 0.28, 0.12, 0.14, 0.18, 0.02, 0.09, 0.02],
    "10-14y": [0.03, 0.15, 0.14, 0.20, 0.12, 0.14, 0.13, 0.0, 0.07, 0.02],
    "15-17y": [0.05, 0.28, 0.24, 0.12, 0.09, 0.10, 0.07, 0.0, 0.04, 0.01],
}

PLACE_TYPES = ["hospital", "hospice", "home", "public_place", "other", "abroad", "not_known"]
# assumed: place of death by category, tuned so that ~77% die in hospital
# (published: 75-80%; LLR 2024/25: 77% hospital, 20% home, 1% hospice, 1% abroad).
PLACE_TYPE_BY_CATEGORY: dict[int, list[float]] = {
    1: [0.75, 0.00, 0.20, 0.03, 0.010, 0.005, 0.005],
    2: [0.15, 0.00, 0.45, 0.35, 0.030, 0.010, 0.010],
    3: [0.50, 0.00, 0.10, 0.36, 0.020, 0.015, 0.005],
    4: [0.45, 0.20, 0.33, 0.00, 0.005, 0.010, 0.005],
    5: [0.88, 0.00, 0.08, 0.01, 0.010, 0.015, 0.005],
    6: [0.70, 0.10, 0.17, 0.00, 0.010, 0.015, 0.005],
    7: [0.80, 0.07, 0.11, 0.00, 0.005, 0.010, 0.005],
    8: [0.96, 0.01, 0.02, 0.00, 0.005, 0.004, 0.001],
    9: [0.90, 0.01, 0.07, 0.00, 0.005, 0.010, 0.005],
    10: [0.55, 0.00, 0.40, 0.02, 0.020, 0.005, 0.005],
}

# Where in hospital: "neonatal_unit" becomes nicu/lnu/scu by the chosen site.
HOSPITAL_KINDS = [
    "neonatal_unit",
    "delivery_suite",
    "picu",
    "ed",
    "paediatric_ward",
    "adult_icu",
    "theatre",
    "other_ward",
    "not_known",
]
KIND_BY_AGE: dict[str, list[float]] = {
    "0-27d": [0.74, 0.16, 0.04, 0.02, 0.01, 0.00, 0.01, 0.005, 0.015],
    "28-364d": [0.22, 0.00, 0.38, 0.22, 0.12, 0.00, 0.02, 0.010, 0.030],
    "1-4y": [0.00, 0.00, 0.40, 0.27, 0.20, 0.02, 0.03, 0.040, 0.040],
    "5-9y": [0.00, 0.00, 0.40, 0.27, 0.20, 0.02, 0.03, 0.040, 0.040],
    "10-14y": [0.00, 0.00, 0.40, 0.27, 0.20, 0.02, 0.03, 0.040, 0.040],
    "15-17y": [0.00, 0.00, 0.30, 0.30, 0.15, 0.12, 0.03, 0.060, 0.040],
}
# Categories whose deaths in hospital follow their own pattern, at any age
# over 27 days (sudden deaths come through the emergency department).
KIND_BY_CATEGORY: dict[int, list[float]] = {
    2: [0.0, 0.0, 0.35, 0.40, 0.05, 0.15, 0.00, 0.03, 0.02],
    3: [0.0, 0.0, 0.35, 0.45, 0.05, 0.08, 0.03, 0.02, 0.02],
    4: [0.0, 0.0, 0.25, 0.02, 0.55, 0.03, 0.00, 0.12, 0.03],
    10: [0.0, 0.0, 0.10, 0.85, 0.03, 0.00, 0.00, 0.00, 0.02],
}

# assumed: how strongly distance keeps care local, for each kind of care. A
# hospital's pull falls as (distance + NEAR_KM) ** -power, so what matters is
# how much nearer one hospital is than another (London's hospitals a few km
# apart behave like rural ones tens of km apart). Specialist care travels more.
DISTANCE_POWER: dict[str, float] = {
    "neonatal_unit": 2.0,
    "delivery_suite": 3.0,
    "picu": 2.0,
    "ed": 3.0,
    "paediatric_ward": 3.0,
    "adult_icu": 2.5,
    "theatre": 1.5,
    "other_ward": 3.0,
    "not_known": 3.0,
}
NEAR_KM = 3.0
NEONATAL_LEVEL_WEIGHT = {"nicu": 10.0, "lnu": 2.0, "scu": 0.5}

# assumed: share of English residents' hospital deaths that happen in a Welsh
# hospital (outside the report), for border authorities.
WELSH_HOSPITAL_SHARE: dict[str, float] = {
    "E06000050": 0.06,
    "E06000051": 0.05,
    "E06000019": 0.05,
    "E08000015": 0.01,
    "E10000013": 0.01,
}

# assumed: chance a death is expected, by category.
EXPECTED_BY_CATEGORY: dict[int, float] = {
    1: 0.02,
    2: 0.0,
    3: 0.02,
    4: 0.90,
    5: 0.35,
    6: 0.75,
    7: 0.80,
    8: 0.70,
    9: 0.30,
    10: 0.0,
}

# Reviews take months to years; unexpected deaths wait for inquests (assumed, as are the spread and the
# slowing). The median is set so that, as nationally in 2016/17, about 76% of reviews are completed within
# 12 months of the death (seed 002, Bedfordshire CDOP annual report: "62% ... against 76% nationally"):
# 190 days gives 77% on the demo store for deaths with a year to run before its as-at date (300 gave 51%).
REVIEW_MEDIAN_DAYS = 190
REVIEW_SPREAD = 0.55  # sigma of the log-normal
REVIEW_SLOWER = {"unexpected": 1.5, 1: 2.0, 2: 2.0}

# assumed: statutory exceptions to "the CDOP of residence reviews".
LOOKED_AFTER_SHARE = 0.02
HOSPITAL_CDOP_REVIEWS_NONRESIDENT = {"specialist": 0.40, "trauma": 0.35}
UNASSIGNED_BY_AGE_OF_CASE = [(60, 0.30), (180, 0.10), (365, 0.03), (10_000, 0.005)]

"""Synthetic child deaths for England, in the extract format, deterministic per seed.

Everything is drawn in vectorised numpy so that 100 times the national volume
is still quick. Calibration figures live in ``ingest.synth_calibration``; the
places children die come from the real site reference (units, coordinates), so
neonatal deaths gather in NICUs, PICU deaths in the PICU hospitals, and
transfers make non-resident deaths common in tertiary centres.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date
from pathlib import Path

import numpy as np
import polars as pl

from ingest import synth_calibration as cal
from ingest.extract import EXTRACT_COLUMNS
from ingest.reference import Reference
from queries import codes

EARTH_RADIUS_KM = 6371.0
# Where children who live outside England are taken to be coming from.
NON_ENGLAND_ORIGINS: dict[str, tuple[float, float, float]] = {
    # code: (latitude, longitude, distance scale multiplier)
    codes.RESIDENCE_WALES: (52.6, -3.2, 2.0),
    codes.RESIDENCE_SCOTLAND: (55.1, -3.4, 3.0),
    codes.RESIDENCE_NORTHERN_IRELAND: (53.4, -3.0, 3.0),
    codes.RESIDENCE_OUTSIDE_UK: (51.5, -0.13, 4.0),
}
AGE_GROUPS = list(codes.AGE_GROUPS)
ETHNIC_GROUPS = list(cal.ETHNIC_RATE_PER_100K)


@dataclass(frozen=True)
class SiteTable:
    codes: np.ndarray
    trusts: np.ndarray
    la_codes: np.ndarray
    lat: np.ndarray
    lon: np.ndarray
    england: np.ndarray
    flags: dict[str, np.ndarray]
    opened: np.ndarray  # datetime64[D], NaT = open since before 2019
    closed: np.ndarray


def child_populations(path: Path) -> dict[str, float]:
    frame = pl.read_csv(path, schema_overrides={"children_thousands": pl.Float64})
    return dict(zip(frame["la_code"], frame["children_thousands"], strict=True))


def generate(reference: Reference, populations: dict[str, float], *, seed: int, scale: float) -> pl.DataFrame:
    """Deaths from 1 April 2019 to 31 March 2026, ``scale`` times the national volume."""
    if scale <= 0:
        raise ValueError("scale must be greater than 0")
    rng = np.random.default_rng(seed)
    sites = _site_table(reference)

    dod = _dates_of_death(rng, scale)
    n = dod.size
    age_group = rng.choice(len(AGE_GROUPS), size=n, p=_normalised(cal.AGE_GROUP_SHARES.values()))
    age_days = _age_days(rng, age_group)
    male = rng.random(n) < cal.MALE_SHARE
    category = _category(rng, age_group)
    ethnic = _ethnic_group(rng, n)
    imd = _imd_decile(rng, n)

    residence = _residence(rng, n, populations)
    england_resident = np.char.startswith(residence.astype(str), "E")
    place_type = _place_type(rng, category, england_resident)
    hospital = place_type == "hospital"
    kind = _hospital_kind(rng, age_group, category, hospital)
    site_index = _choose_sites(rng, sites, reference, residence, kind, dod, hospital)
    place_in_hospital = _place_in_hospital(sites, kind, site_index)

    expected = _expected(rng, category)
    notified = _notification_dates(rng, dod)
    completed = _review_completed(rng, dod, notified, category, expected)
    is_completed = ~np.isnat(completed)
    status = np.where(
        is_completed,
        "completed",
        np.where((np.datetime64(cal.AS_AT) - notified).astype(int) > 60, "under_review", "notified"),
    )
    reviewing = _reviewing_cdop(rng, reference, sites, residence, site_index, dod, completed, category, kind)

    order = np.lexsort((np.arange(n), dod))
    site_codes = np.where(site_index >= 0, sites.codes[np.maximum(site_index, 0)], None)
    text = {
        "case_id": [f"{codes.DEMO_CASE_PREFIX}{seed}-{i + 1:08d}" for i in range(n)],
        "date_of_death": _iso(dod[order]),
        "notification_date": _iso(notified[order]),
        "age_at_death_days": age_days[order].astype(str),
        "sex": np.where(male, "male", "female")[order],
        "ethnic_group": ethnic[order],
        "place_of_death_type": place_type[order],
        "site_code": site_codes[order],
        "place_in_hospital": place_in_hospital[order],
        "residence_la_code": residence[order],
        "reviewing_cdop_code": reviewing[order],
        "expected_death": expected[order],
        "review_status": status[order],
        "review_completed_date": _iso(completed[order]),
        "category_of_death": np.where(is_completed, category.astype(str), None)[order],
        "imd_decile": np.where(imd > 0, imd.astype(str), None)[order],
    }
    frame = pl.DataFrame({k: pl.Series(k, list(v), dtype=pl.String) for k, v in text.items()})
    return frame.select(EXTRACT_COLUMNS)


def _normalised(values: Iterable[float]) -> np.ndarray:
    array = np.asarray(list(values), dtype=float)
    return array / array.sum()


def _iso(days: np.ndarray) -> list[str | None]:
    return [None if np.isnat(d) else str(d) for d in days]


def _site_table(reference: Reference) -> SiteTable:
    s = reference.sites
    flags = {c: s[c].to_numpy() for c in ("nicu", "lnu", "scu", "picu", "ed", "maternity", "paediatric_ward")}
    return SiteTable(
        codes=s["site_code"].to_numpy().astype(object),
        trusts=s["trust_code"].to_numpy().astype(object),
        la_codes=s["la_code"].to_numpy().astype(object),
        lat=s["latitude"].to_numpy(),
        lon=s["longitude"].to_numpy(),
        england=(s["country"] == "England").to_numpy(),
        flags=flags,
        opened=s["opened"].to_numpy().astype("datetime64[D]"),
        closed=s["closed"].to_numpy().astype("datetime64[D]"),
    )


def _dates_of_death(rng: np.random.Generator, scale: float) -> np.ndarray:
    """Each financial year's published total, with a mild winter peak."""
    chunks = []
    for start_year, deaths in cal.DEATHS_PER_FINANCIAL_YEAR.items():
        first = np.datetime64(date(start_year, 4, 1))
        days = (np.datetime64(date(start_year + 1, 4, 1)) - first).astype(int)
        day_numbers = np.arange(days)
        # peak in mid January (day ~290 of a financial year)
        weight = 1 + 0.12 * np.cos(2 * np.pi * (day_numbers - 290) / 365.25)
        count = round(deaths * scale)
        chunks.append(first + rng.choice(day_numbers, size=count, p=weight / weight.sum()))
    return np.concatenate(chunks).astype("datetime64[D]")


def _age_days(rng: np.random.Generator, age_group: np.ndarray) -> np.ndarray:
    days = np.zeros(age_group.size, dtype=np.int64)
    neonatal_pmf = np.concatenate([[0.40], np.full(6, 0.05), np.full(21, 0.30 / 21)])
    infant_pmf = np.exp(-(np.arange(28, 365) - 28) / 120)
    bands = {2: (1, 5), 3: (5, 10), 4: (10, 15), 5: (15, 18)}
    for group in range(len(AGE_GROUPS)):
        rows = np.flatnonzero(age_group == group)
        if group == 0:
            days[rows] = rng.choice(28, size=rows.size, p=neonatal_pmf / neonatal_pmf.sum())
        elif group == 1:
            days[rows] = rng.choice(np.arange(28, 365), size=rows.size, p=infant_pmf / infant_pmf.sum())
        else:
            low, high = bands[group]
            # younger children in a band die a little more often than older ones
            years = low + (high - low) * rng.beta(1.0, 1.3 if group == 2 else 1.0, size=rows.size)
            years = np.clip(years, low + 0.003, high - 0.003)
            days[rows] = np.floor(years * 365.25).astype(np.int64)
    return days


def _category(rng: np.random.Generator, age_group: np.ndarray) -> np.ndarray:
    category = np.zeros(age_group.size, dtype=np.int64)
    for group, name in enumerate(AGE_GROUPS):
        rows = np.flatnonzero(age_group == group)
        category[rows] = 1 + rng.choice(10, size=rows.size, p=_normalised(cal.CATEGORY_BY_AGE[name]))
    return category


def _ethnic_group(rng: np.random.Generator, n: int) -> np.ndarray:
    weights = [cal.ETHNIC_RATE_PER_100K[g] * cal.ETHNIC_POPULATION_SHARE[g] for g in ETHNIC_GROUPS]
    known = _normalised(weights) * (1 - cal.ETHNICITY_NOT_KNOWN)
    return rng.choice([*ETHNIC_GROUPS, "not_known"], size=n, p=[*known, cal.ETHNICITY_NOT_KNOWN])


def _imd_decile(rng: np.random.Generator, n: int) -> np.ndarray:
    """Deciles 1 (most deprived) to 10 with death rates falling evenly; 0 = not known."""
    rates = np.linspace(cal.IMD_RATE_MOST_DEPRIVED, cal.IMD_RATE_LEAST_DEPRIVED, 10)
    known = rates / rates.sum() * (1 - cal.IMD_NOT_KNOWN)
    return rng.choice(np.arange(0, 11), size=n, p=[cal.IMD_NOT_KNOWN, *known])


def _residence(rng: np.random.Generator, n: int, populations: dict[str, float]) -> np.ndarray:
    outside = cal.NON_ENGLAND_RESIDENCE_SHARE
    england_share = 1 - sum(outside.values())
    la_codes = list(populations)
    la_p = _normalised(populations.values()) * england_share
    return rng.choice(np.array([*la_codes, *outside], dtype=object), size=n, p=[*la_p, *outside.values()])


def _place_type(rng: np.random.Generator, category: np.ndarray, england_resident: np.ndarray) -> np.ndarray:
    place = np.empty(category.size, dtype=object)
    types = np.array(cal.PLACE_TYPES, dtype=object)
    for cat, weights in cal.PLACE_TYPE_BY_CATEGORY.items():
        rows = np.flatnonzero(category == cat)
        place[rows] = rng.choice(types, size=rows.size, p=_normalised(weights))
    # children from outside England are in an English extract because they died here, mostly in hospital
    place[~england_resident] = np.where(rng.random((~england_resident).sum()) < 0.9, "hospital", "public_place")
    return place


def _hospital_kind(
    rng: np.random.Generator, age_group: np.ndarray, category: np.ndarray, hospital: np.ndarray
) -> np.ndarray:
    kinds = np.array(cal.HOSPITAL_KINDS, dtype=object)
    kind = np.full(age_group.size, None, dtype=object)
    for group, name in enumerate(AGE_GROUPS):
        rows = np.flatnonzero(hospital & (age_group == group))
        kind[rows] = rng.choice(kinds, size=rows.size, p=_normalised(cal.KIND_BY_AGE[name]))
    for cat, weights in cal.KIND_BY_CATEGORY.items():
        rows = np.flatnonzero(hospital & (category == cat) & (age_group > 0))
        kind[rows] = rng.choice(kinds, size=rows.size, p=_normalised(weights))
    return kind


def _origins(reference: Reference, sites: SiteTable) -> dict[str, tuple[float, float, float]]:
    """A point for each residence: the middle of its local authority's sites,
    else of its CDOP's, else the middle of England."""
    origins: dict[str, tuple[float, float, float]] = dict(NON_ENGLAND_ORIGINS)
    la_points: dict[str, tuple[float, float]] = {}
    for la in set(sites.la_codes[sites.england]):
        mask = sites.la_codes == la
        la_points[la] = (float(sites.lat[mask].mean()), float(sites.lon[mask].mean()))
    cdop_of = dict(zip(reference.cdop_las["la_code"], reference.cdop_las["cdop_code"], strict=True))
    by_cdop: dict[str, list[tuple[float, float]]] = {}
    for la, point in la_points.items():
        by_cdop.setdefault(cdop_of.get(la, ""), []).append(point)
    for la in reference.local_authorities["la_code"]:
        if la in la_points:
            lat, lon = la_points[la]
        elif by_cdop.get(cdop_of.get(la, "")):
            points = np.array(by_cdop[cdop_of[la]])
            lat, lon = float(points[:, 0].mean()), float(points[:, 1].mean())
        else:
            lat, lon = 52.5, -1.5
        origins[la] = (lat, lon, 1.0)
    return origins


def _distance_km(lat: float, lon: float, sites: SiteTable) -> np.ndarray:
    lat1, lon1 = np.radians(lat), np.radians(lon)
    lat2, lon2 = np.radians(sites.lat), np.radians(sites.lon)
    a = np.sin((lat2 - lat1) / 2) ** 2 + np.cos(lat1) * np.cos(lat2) * np.sin((lon2 - lon1) / 2) ** 2
    return 2 * EARTH_RADIUS_KM * np.arcsin(np.sqrt(a))


def _kind_weights(sites: SiteTable, kind: str) -> np.ndarray:
    f = sites.flags
    hospital = np.logical_or.reduce([f[c] for c in f])
    if kind == "neonatal_unit":
        levels = cal.NEONATAL_LEVEL_WEIGHT
        return np.select([f["nicu"], f["lnu"], f["scu"]], [levels["nicu"], levels["lnu"], levels["scu"]], 0.0)
    if kind == "delivery_suite":
        return f["maternity"].astype(float)
    if kind in ("picu", "theatre"):
        return f["picu"].astype(float)
    if kind == "ed":
        return f["ed"].astype(float)
    if kind == "adult_icu":
        return f["ed"] * np.where(f["picu"], 3.0, 1.0)
    if kind in ("paediatric_ward", "other_ward"):
        return f["paediatric_ward"] * np.where(f["picu"], 2.0, 1.0)
    return hospital.astype(float)


def _choose_sites(
    rng: np.random.Generator,
    sites: SiteTable,
    reference: Reference,
    residence: np.ndarray,
    kind: np.ndarray,
    dod: np.ndarray,
    hospital: np.ndarray,
) -> np.ndarray:
    """Pick each hospital death's site: units that offer the care, weighted by
    how far the family lives from them. -1 for deaths outside hospital."""
    origins = _origins(reference, sites)
    wales_share = np.array([cal.WELSH_HOSPITAL_SHARE.get(r, 0.0) for r in residence])
    in_wales = hospital & (rng.random(residence.size) < wales_share)
    change_days = sorted({d for d in (*sites.opened, *sites.closed) if not np.isnat(d)})
    period = np.searchsorted(np.array(change_days, dtype="datetime64[D]"), dod, side="right")
    chosen = np.full(residence.size, -1, dtype=np.int64)
    keys = pl.DataFrame(
        {
            "residence": residence.astype(str),
            "kind": kind.astype(str),
            "period": period,
            "wales": in_wales,
            "row": np.arange(residence.size),
        }
    ).filter(pl.Series(hospital))
    kind_base = {k: _kind_weights(sites, k) for k in cal.HOSPITAL_KINDS}
    distances: dict[str, np.ndarray] = {}
    for (res, kind_name, period_index, wales), group in keys.group_by(
        ["residence", "kind", "period", "wales"], maintain_order=True
    ):
        lat, lon, stretch = origins[res]
        if res not in distances:
            distances[res] = _distance_km(lat, lon, sites)
        day = np.array(change_days, dtype="datetime64[D]")[period_index - 1] if period_index else None
        open_now = _open_on(sites, day)
        country = ~sites.england if wales else sites.england
        pull = (distances[res] + cal.NEAR_KM) ** -(cal.DISTANCE_POWER[kind_name] / stretch)
        weights = kind_base[kind_name] * open_now * country * pull
        if weights.sum() <= 0:
            weights = kind_base["not_known"] * open_now * country * pull
        rows = group["row"].to_numpy()
        chosen[rows] = rng.choice(sites.codes.size, size=rows.size, p=weights / weights.sum())
    return chosen


def _open_on(sites: SiteTable, day: np.datetime64 | None) -> np.ndarray:
    """Sites open during the period starting ``day`` (None = the first period)."""
    if day is None:
        return np.isnat(sites.opened)
    opened = np.isnat(sites.opened) | (sites.opened <= day)
    still_open = np.isnat(sites.closed) | (sites.closed > day)
    return opened & still_open


def _place_in_hospital(sites: SiteTable, kind: np.ndarray, site_index: np.ndarray) -> np.ndarray:
    place = kind.copy()
    neonatal = np.flatnonzero(kind == "neonatal_unit")
    idx = site_index[neonatal]
    f = sites.flags
    place[neonatal] = np.select([f["nicu"][idx], f["lnu"][idx], f["scu"][idx]], ["nicu", "lnu", "scu"], "not_known")
    return place


def _expected(rng: np.random.Generator, category: np.ndarray) -> np.ndarray:
    chance = np.array([cal.EXPECTED_BY_CATEGORY[c] for c in range(1, 11)])[category - 1]
    draw = rng.random(category.size)
    expected = np.where(draw < chance, "yes", "no").astype(object)
    expected[rng.random(category.size) < 0.01] = "not_known"
    return expected


def _notification_dates(rng: np.random.Generator, dod: np.ndarray) -> np.ndarray:
    lag = rng.choice(
        [0, 1, 2, 3, 5, 7, 14, 30, 60], size=dod.size, p=[0.30, 0.30, 0.12, 0.08, 0.06, 0.05, 0.04, 0.03, 0.02]
    )
    return np.minimum(dod + lag, np.datetime64(cal.AS_AT))


def _review_completed(
    rng: np.random.Generator, dod: np.ndarray, notified: np.ndarray, category: np.ndarray, expected: np.ndarray
) -> np.ndarray:
    """Completion dates drawn for every case; NaT where still open at the as-at date."""
    slower = np.where(expected == "no", cal.REVIEW_SLOWER["unexpected"], 1.0)
    for cat in (1, 2):
        slower = np.where(category == cat, slower * cal.REVIEW_SLOWER[cat], slower)
    days = np.round(cal.REVIEW_MEDIAN_DAYS * slower * rng.lognormal(0, cal.REVIEW_SPREAD, dod.size))
    completed = np.maximum(dod + days.astype(np.int64), notified + 30)
    return np.where(completed <= np.datetime64(cal.AS_AT), completed, np.datetime64("NaT"))


def _reviewing_cdop(
    rng: np.random.Generator,
    reference: Reference,
    sites: SiteTable,
    residence: np.ndarray,
    site_index: np.ndarray,
    dod: np.ndarray,
    completed: np.ndarray,
    category: np.ndarray,
    kind: np.ndarray,
) -> np.ndarray:
    """Mostly the CDOP of residence, with the statutory guidance's exceptions;
    recent deaths are often not yet assigned. The CDOP is the one in existence
    when the review is done (so a merger takes over open cases)."""
    review_day = np.where(np.isnat(completed), np.datetime64(cal.AS_AT), completed)
    home_cdop = _cdop_of_residence(reference, residence, review_day)
    hospital_cdop = _cdop_of_hospital(reference, sites, site_index, review_day)
    in_hospital = site_index >= 0
    non_resident = in_hospital & (hospital_cdop != home_cdop)
    draw = rng.random(residence.size)
    specialist = np.isin(kind, ["neonatal_unit", "picu", "theatre"]) | np.isin(category, [4, 7])
    by_hospital = (
        (in_hospital & (home_cdop == None))  # noqa: E711 - elementwise on an object array
        | (in_hospital & (rng.random(residence.size) < cal.LOOKED_AFTER_SHARE))
        | (non_resident & specialist & (draw < cal.HOSPITAL_CDOP_REVIEWS_NONRESIDENT["specialist"]))
        | (non_resident & (category == 3) & (draw < cal.HOSPITAL_CDOP_REVIEWS_NONRESIDENT["trauma"]))
    )
    reviewing = np.where(by_hospital, hospital_cdop, home_cdop)
    age_of_case = (np.datetime64(cal.AS_AT) - dod).astype(int)
    unassigned_chance = np.select(
        [age_of_case < limit for limit, _ in cal.UNASSIGNED_BY_AGE_OF_CASE],
        [chance for _, chance in cal.UNASSIGNED_BY_AGE_OF_CASE],
    )
    unassigned = np.isnat(completed) & (rng.random(residence.size) < unassigned_chance)
    return np.where(unassigned, None, reviewing)


def _valid_on(frame: pl.DataFrame, row: int, days: np.ndarray) -> np.ndarray:
    start = np.datetime64(frame["valid_from"][row])
    end = frame["valid_to"][row]
    ok = days >= start
    return ok if end is None else ok & (days < np.datetime64(end))


def _cdop_of_residence(reference: Reference, residence: np.ndarray, day: np.ndarray) -> np.ndarray:
    result = np.full(residence.size, None, dtype=object)
    cdops = reference.cdops
    members = reference.cdop_las.group_by("cdop_code").agg("la_code")
    las_of = dict(zip(members["cdop_code"], members["la_code"].to_list(), strict=True))
    for row, code in enumerate(cdops["cdop_code"]):
        mask = np.isin(residence, las_of[code]) & _valid_on(cdops, row, day)
        result[mask] = code
    return result


def _cdop_of_hospital(reference: Reference, sites: SiteTable, site_index: np.ndarray, day: np.ndarray) -> np.ndarray:
    """The CDOP whose footprint holds the hospital's trust on ``day``; where a
    trust lies in two footprints, the one covering the site's own area."""
    result = np.full(site_index.size, None, dtype=object)
    in_hospital = site_index >= 0
    trust = np.where(in_hospital, sites.trusts[np.maximum(site_index, 0)], None)
    site_la = np.where(in_hospital, sites.la_codes[np.maximum(site_index, 0)], None)
    members = reference.cdop_las.group_by("cdop_code").agg("la_code")
    las_of = dict(zip(members["cdop_code"], members["la_code"].to_list(), strict=True))
    footprint = reference.footprint
    for prefer_own_area in (False, True):
        for row, (trust_code, cdop_code) in enumerate(
            zip(footprint["trust_code"], footprint["cdop_code"], strict=True)
        ):
            mask = (trust == trust_code) & _valid_on(footprint, row, day)
            if prefer_own_area:
                mask &= np.isin(site_la, las_of[cdop_code])
            result[mask] = cdop_code
    return result

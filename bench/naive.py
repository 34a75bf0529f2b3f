"""The naive peer: the same five pages written the usual quick way.

The whole report table is read into a pandas frame once (as a quick Dash app
does at import), and every filter change filters that frame with boolean
masks, groups it with pandas and draws with ``plotly.express``; figures are
serialised to JSON as Dash would send them. Scope and filters are the same
objects ours uses, so both sides answer the same question: ``tests/bench/test_bench``
checks that the peer's counts equal the query layer's.
"""

from __future__ import annotations

from pathlib import Path

import duckdb
import numpy as np
import pandas as pd
import plotly.express as px
from plotly.io.json import to_json_plotly

from queries import codes
from queries.filters import Filters
from queries.scope import Scope


class NaivePeer:
    def __init__(self, store_path: Path) -> None:
        conn = duckdb.connect(str(store_path), read_only=True)
        try:
            self.deaths = conn.sql("SELECT * FROM report_facts").df()
            self.sites = conn.sql("SELECT site_code, latitude, longitude, picu, nicu, lnu, scu FROM ref_sites").df()
            self.footprint = conn.sql(
                """SELECT c.cdop_code, fp.trust_code, fp.valid_from, fp.valid_to
                   FROM ref_footprint AS fp JOIN ref_cdops AS c ON c.current_code = fp.cdop_code"""
            ).df()
            self.cdop_las = conn.sql("SELECT cdop_code, la_code FROM ref_cdop_las").df()
            self.as_at = pd.Timestamp(conn.execute("SELECT value FROM meta WHERE key = 'data_as_at'").fetchone()[0])
        finally:
            conn.close()

    def scoped(self, scope: Scope, filters: Filters) -> pd.DataFrame:
        """The rows in view with their residence and review groups, by masks."""
        df = self.deaths[self.deaths["trust_code"].isin(scope.trust_codes)].copy()
        la = df["residence_la_code"].fillna("")
        english = la.str.startswith("E")
        resident = english if scope.england else la.isin(scope.la_codes)
        df["residence_group"] = np.select(
            [resident, english, la.isin(codes.RESIDENCE_OTHER_UK), la == codes.RESIDENCE_OUTSIDE_UK],
            ["footprint", "england", "uk_other", "outside_uk"],
            "not_known",
        )
        day = pd.Timestamp(scope.day)
        fp = self.footprint
        valid_from = pd.to_datetime(fp["valid_from"])
        valid_to = pd.to_datetime(fp["valid_to"])
        in_force = fp[(valid_from <= day) & (valid_to.isna() | (valid_to > day))]
        local = in_force[["cdop_code", "trust_code"]].drop_duplicates()
        local = local.rename(columns={"cdop_code": "reviewing_cdop_code"}).assign(local=True)
        df = df.merge(local, on=["reviewing_cdop_code", "trust_code"], how="left")
        df["review_group"] = np.where(
            df["reviewing_cdop_code"].isna(), "unassigned", np.where(df["local"].eq(True), "local", "other")
        )
        masks = [
            ("financial_year", filters.financial_years),
            ("trust_code", filters.trust_codes),
            ("site_code", filters.site_codes),
            ("place_in_hospital", filters.places),
            ("age_group", filters.age_groups),
            ("review_status", filters.review_statuses),
            ("residence_group", filters.residence_groups),
            ("residence_la_code", filters.residence_areas),
        ]
        for column, values in masks:
            if values:
                df = df[df[column].isin(values)]
        if filters.reviewing_cdops:
            named = [c for c in filters.reviewing_cdops if c != codes.UNASSIGNED]
            keep = df["reviewing_cdop_code"].isin(named)
            if codes.UNASSIGNED in filters.reviewing_cdops:
                keep |= df["reviewing_cdop_code"].isna()
            df = df[keep]
        if filters.date_from:
            df = df[df["date_of_death"] >= pd.Timestamp(filters.date_from)]
        if filters.date_to:
            df = df[df["date_of_death"] <= pd.Timestamp(filters.date_to)]
        df["place_label"] = df["place_in_hospital"].map(codes.PLACES_IN_HOSPITAL).fillna("Not known")
        df["age_group_label"] = df["age_group"].map(codes.AGE_GROUPS).fillna("Not known")
        df["reviewing_cdop_name"] = df["reviewing_cdop_name"].fillna("Not yet assigned")
        return df

    def options(self, scope: Scope) -> dict[str, list]:
        """The filter bar's option lists, from the frame on every change."""
        df = self.deaths[self.deaths["trust_code"].isin(scope.trust_codes)]
        return {
            "years": sorted(df["financial_year"].dropna().unique().tolist()),
            "trusts": df[["trust_code", "trust_name"]].drop_duplicates().sort_values("trust_name").values.tolist(),
            "sites": df[["site_code", "site_name"]].drop_duplicates().sort_values("site_name").values.tolist(),
            "reviewers": df[["reviewing_cdop_code", "reviewing_cdop_name"]].dropna().drop_duplicates().values.tolist(),
            "first": str(df["date_of_death"].min()),
            "last": str(df["date_of_death"].max()),
        }

    def page(self, name: str, scope: Scope, filters: Filters) -> str:
        """Everything one page's callback sends for a filter change, as JSON."""
        df = self.scoped(scope, filters)
        parts: dict[str, object] = {"options": self.options(scope)}
        if name == "overview":
            parts["headline"] = {
                "deaths": len(df),
                **df["residence_group"].value_counts().to_dict(),
                **df["review_group"].value_counts().to_dict(),
            }
            trust_place = df.groupby(["trust_name", "place_label"]).size().reset_index(name="deaths")
            ages = df.groupby("age_group_label").size().reset_index(name="deaths")
            places = df.groupby("place_label").size().reset_index(name="deaths")
            quarters = df.groupby(["financial_year", "fy_quarter"]).size().reset_index(name="deaths")
            quarters["period"] = quarters["financial_year"].astype(str) + " Q" + quarters["fy_quarter"].astype(str)
            parts["figures"] = [
                px.bar(trust_place, x="deaths", y="trust_name", color="place_label", orientation="h"),
                px.bar(ages, x="age_group_label", y="deaths"),
                px.bar(places, x="deaths", y="place_label", orientation="h"),
                px.bar(quarters, x="period", y="deaths"),
            ]
        elif name == "trusts":
            level, label = _drill_level(filters)
            counts = df.groupby(label).size().reset_index(name="deaths")
            parts["table"] = pd.pivot_table(
                df, index=label, columns="age_group_label", values="case_ref", aggfunc="count", fill_value=0
            ).to_dict("split")
            chart = (
                px.bar(counts, x="deaths", y=label, orientation="h")
                if level in ("trust", "site")
                else px.bar(counts, x=label, y="deaths")
            )
            parts["figures"] = [chart]
        elif name == "reviewing":
            parts["headline"] = {"deaths": len(df), **df["review_group"].value_counts().to_dict()}
            reviewers = df.groupby("reviewing_cdop_name").size().reset_index(name="deaths")
            by_site = df.groupby(["site_name", "review_group"]).size().reset_index(name="deaths")
            residence = df.groupby(["site_name", "residence_group"]).size().reset_index(name="deaths")
            matrix = pd.pivot_table(
                df,
                index="site_name",
                columns="reviewing_cdop_name",
                values="case_ref",
                aggfunc="count",
                fill_value=0,
            )
            parts["table"] = matrix.to_dict("split")
            parts["figures"] = [
                px.bar(reviewers, x="deaths", y="reviewing_cdop_name", orientation="h"),
                px.bar(by_site, x="deaths", y="site_name", color="review_group", orientation="h"),
                px.bar(residence, x="deaths", y="site_name", color="residence_group", orientation="h"),
                px.imshow(matrix, aspect="auto"),
            ]
        elif name == "trends":
            quarters = df.groupby(["financial_year", "fy_quarter"]).size().reset_index(name="deaths")
            quarters["period"] = quarters["financial_year"].astype(str) + " Q" + quarters["fy_quarter"].astype(str)
            parts["table"] = quarters.to_dict("records")
            parts["figures"] = [px.bar(quarters, x="period", y="deaths")]
        elif name == "map":
            # hospitals by place and residence, areas of residence, and area-to-hospital pairs, drawn on
            # longitude and latitude with plotly.express (the areas' shapes are left out: a quick app
            # would load a GeoJSON and use a map trace, which the app's plotly.js bundle lacks)
            places = df.groupby(["site_code", "place_label"]).size().reset_index(name="deaths")
            residence = df.groupby(["site_code", "residence_group"]).size().reset_index(name="deaths")
            areas = df.groupby("residence_la_code").size().reset_index(name="deaths")
            flows = df.groupby(["residence_la_code", "site_code"]).size().reset_index(name="deaths")
            sites = self.sites.merge(df.groupby("site_code").size().reset_index(name="deaths"), on="site_code")
            sites["unit"] = np.select(
                [sites["picu"], sites["nicu"], sites["lnu"], sites["scu"]], ["picu", "nicu", "lnu", "scu"], "none"
            )
            pairs = flows.merge(sites[["site_code", "latitude", "longitude"]], on="site_code")
            parts["tables"] = [places.to_dict("records"), residence.to_dict("records"), areas.to_dict("records")]
            parts["figures"] = [
                px.scatter(sites, x="longitude", y="latitude", size="deaths", color="unit", hover_name="site_code"),
                px.line(pairs, x="longitude", y="latitude", line_group="residence_la_code", width=None),
            ]
        elif name == "reviews":
            completed = df[df["review_status"] == "completed"].copy()
            completed["band"] = self._bands(completed, pd.to_datetime(completed["review_completed_date"]))
            still_open = df[df["review_status"].isin(["notified", "under_review"])].copy()
            still_open["band"] = self._bands(still_open, pd.Series(self.as_at, index=still_open.index))
            bands = completed.groupby(["financial_year", "band"]).size().reset_index(name="reviews")
            bands["share"] = bands["reviews"] / bands.groupby("financial_year")["reviews"].transform("sum")
            opened = still_open.groupby(["financial_year", "band"]).size().reset_index(name="reviews")
            days = (pd.to_datetime(completed["review_completed_date"]) - completed["date_of_death"]).dt.days
            quartiles = days.groupby(completed["financial_year"]).quantile([0.25, 0.5, 0.75]).unstack()
            parts["tables"] = [bands.to_dict("records"), opened.to_dict("records"), quartiles.to_dict("split")]
            parts["figures"] = [px.bar(bands, x="share", y="financial_year", color="band", orientation="h")]
        elif name == "reviews-england":
            england = self.scoped(self.england(scope), self.england_filters(filters))
            local, national = self._shares(df, scope.england), self._shares(england, True)
            shares = pd.DataFrame(
                {
                    "share": [n / max(local[0], 1) for n in local[1:]],
                    "england": [n / max(national[0], 1) for n in national[1:]],
                }
            )
            parts["tables"] = [shares.to_dict("records")]
            parts["figures"] = [px.bar(shares, x="share", orientation="h")]
        elif name == "reviews-windows":
            years = sorted(self.options(scope)["years"])
            end = max(filters.financial_years) if filters.financial_years else years[-1]
            now = df[df["financial_year"].between(end - 2, end)]
            before = df[df["financial_year"].between(end - 5, end - 3)]
            window = Filters(**{**filters.__dict__, "financial_years": tuple(range(end - 2, end + 1))})
            england = self.scoped(self.england(scope), self.england_filters(window))
            counted = [
                {
                    str(k): int(v)
                    for k, v in frame[frame["review_status"] == "completed"]["category_of_death"].value_counts().items()
                }
                for frame in (now, england)
            ]
            expected = [
                {str(k): int(v) for k, v in frame["expected_death"].value_counts().items()} for frame in (now, england)
            ]
            parts["tables"] = [
                {"now": len(now), "before": len(before), "change": len(now) - len(before)},
                counted,
                expected,
            ]
            categories = pd.DataFrame({"category": list(counted[0]), "count": list(counted[0].values())})
            parts["figures"] = [px.bar(categories, x="count", y="category", orientation="h")]
        else:
            raise ValueError(f"no page {name!r}")
        return to_json_plotly(parts)

    def _bands(self, df: pd.DataFrame, end: pd.Series) -> np.ndarray:
        """The time from death to ``end`` in the Reviews page's three bands, row by row."""
        six = df["date_of_death"].apply(lambda day: day + pd.DateOffset(months=6))
        twelve = df["date_of_death"].apply(lambda day: day + pd.DateOffset(months=12))
        return np.select([end <= six, end <= twelve], ["within_6m", "6_to_12m"], "over_12m")

    def england(self, scope: Scope) -> Scope:
        england_trusts = tuple(self.deaths["trust_code"].unique())
        return Scope(
            label="England",
            cdop_codes=(),
            trust_codes=england_trusts,
            la_codes=tuple(self.cdop_las["la_code"].unique()),
            day=scope.day,
            england=True,
        )

    @staticmethod
    def england_filters(filters: Filters) -> Filters:
        kept = {**filters.__dict__}
        for name in ("trust_codes", "site_codes", "reviewing_cdops", "residence_groups", "residence_areas"):
            kept[name] = ()
        return Filters(**kept)

    def _shares(self, df: pd.DataFrame, england: bool) -> tuple[int, ...]:
        """Deaths, then the counts of the shares the Reviews page compares (non-residents of the
        hospital's own footprints for England)."""
        if england:
            pairs = self.footprint.merge(self.cdop_las, on="cdop_code")
            homes = set(pairs["la_code"] + "|" + pairs["trust_code"])
            known = df["residence_group"] != "not_known"
            non_residents = int(
                (known & ~(df["residence_la_code"].fillna("") + "|" + df["trust_code"]).isin(homes)).sum()
            )
        else:
            non_residents = int(df["residence_group"].isin(["england", "uk_other", "outside_uk"]).sum())
        place = df["place_in_hospital"]
        return (
            len(df),
            int(place.isin(["nicu", "lnu", "scu"]).sum()),
            int((place == "picu").sum()),
            int((place == "ed").sum()),
            non_residents,
            int((df["review_group"] == "other").sum()),
            int((df["review_group"] == "unassigned").sum()),
            int((df["review_status"] == "completed").sum()),
        )


def _drill_level(filters: Filters) -> tuple[str, str]:
    """The trusts page's level, as ours works it out: the next one down from what is chosen."""
    if len(filters.trust_codes) != 1:
        return "trust", "trust_name"
    if len(filters.site_codes) != 1:
        return "site", "site_name"
    if len(filters.places) != 1:
        return "place", "place_label"
    return "age_group", "age_group_label"

"""Scoped read functions of the report: (connection, scope, filters) -> polars frame.

Every function reads ``report_facts`` (the report rule's rows, materialised
from the ``report_deaths`` view at each load) under the conditions built in
``sql`` (``_row_filter``), which always restrict rows to the scope's trusts
with bound parameters. Dimensions are chosen from a fixed list; nothing from
a caller is ever pasted into SQL text.

One module per job: ``dimensions`` (the catalogue), ``sql`` (scoped SQL and
fetching), ``counts`` (counts, names, headline), ``periods`` (time grains),
``cases`` (the case grid and CSV), ``options`` (filter options, store facts);
for reviews: ``timeliness`` (bands, median days, the summary), ``comparator``
(England beside a footprint), ``windows`` (pooled years), ``categories``
(categories of death, expected deaths), ``shares`` (the pages' shares with England beside).
Callers keep using ``report.x``: the public names are re-exported here.
"""

from __future__ import annotations

from queries.report.cases import (
    CASE_COLUMNS,
    CASE_LABELS,
    DATE_COMPARISONS,
    DATE_FILTER_COLUMNS,
    DATE_OPERATORS,
    MAX_PAGE,
    TEXT_FILTER_COLUMNS,
    TEXT_OPERATORS,
    ColumnFilter,
    case_count,
    case_list,
    column_filter,
    iter_cases,
    label_cases,
)
from queries.report.categories import categories_of_death, distribution, england_distribution, expected_deaths
from queries.report.comparator import comparison, england_filters, england_summary
from queries.report.counts import (
    HEADLINE_TOTALS,
    NAMES_SQL,
    NOT_FOUND,
    Names,
    by_age_group,
    by_place,
    by_reviewing_cdop,
    by_site,
    by_site_reviewing_cdop,
    by_trust,
    by_trust_site_place_age,
    counts,
    counts_many,
    counts_many_sql,
    counts_sql,
    headline,
    headline_from,
    read_names,
    rollup,
)
from queries.report.dimensions import DIMENSIONS, RESIDENCE_GROUP, REVIEW_GROUP, TIME_GRAINS, Dimension
from queries.report.map import (
    MapCounts,
    area_names,
    hospital_sites,
    hospitals_table,
    map_counts,
    residence_table,
)
from queries.report.options import data_facts, filter_options
from queries.report.periods import by_period, periods
from queries.report.shares import england_counts, hospital_shares
from queries.report.sql import SHORT_LIST, scoped_rows
from queries.report.timeliness import BANDS, completed_bands, completion_days, open_bands
from queries.report.timeliness import summary as timeliness_summary
from queries.report.windows import WINDOW_LENGTHS, in_window, pooled, previous_window, window

__all__ = [
    "BANDS",
    "CASE_COLUMNS",
    "CASE_LABELS",
    "DATE_COMPARISONS",
    "DATE_FILTER_COLUMNS",
    "DATE_OPERATORS",
    "DIMENSIONS",
    "HEADLINE_TOTALS",
    "MAX_PAGE",
    "NAMES_SQL",
    "NOT_FOUND",
    "RESIDENCE_GROUP",
    "REVIEW_GROUP",
    "SHORT_LIST",
    "TEXT_FILTER_COLUMNS",
    "TEXT_OPERATORS",
    "TIME_GRAINS",
    "WINDOW_LENGTHS",
    "ColumnFilter",
    "Dimension",
    "MapCounts",
    "Names",
    "area_names",
    "by_age_group",
    "by_period",
    "by_place",
    "by_reviewing_cdop",
    "by_site",
    "by_site_reviewing_cdop",
    "by_trust",
    "by_trust_site_place_age",
    "case_count",
    "case_list",
    "categories_of_death",
    "column_filter",
    "comparison",
    "completed_bands",
    "completion_days",
    "counts",
    "counts_many",
    "counts_many_sql",
    "counts_sql",
    "data_facts",
    "distribution",
    "england_counts",
    "england_distribution",
    "england_filters",
    "england_summary",
    "expected_deaths",
    "filter_options",
    "headline",
    "headline_from",
    "hospital_shares",
    "hospital_sites",
    "hospitals_table",
    "in_window",
    "iter_cases",
    "label_cases",
    "map_counts",
    "open_bands",
    "periods",
    "pooled",
    "previous_window",
    "read_names",
    "residence_table",
    "rollup",
    "scoped_rows",
    "timeliness_summary",
    "window",
]

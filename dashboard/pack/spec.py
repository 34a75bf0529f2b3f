"""What a report page's table is, for the panel pack. Each view module that has tables lists them
as ``PACK = (PackTable(...), ...)``: that is all a new page needs to be in the pack."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field

Params = Mapping[str, list[str]]
# how its chart is drawn, as on screen: horizontal bars, columns, lines, or none (a list of values)
CHARTS = ("bar", "column", "line", "none")


@dataclass(frozen=True)
class PackTable:
    """One table of a page: the CSV download it is (``dashboard.downloads.AGGREGATES``), its title,
    and how its sheet lays it out and charts it."""

    download: str  # the name of the CSV download whose frame this is: same query, same cleaning
    # what it counts ("Deaths in hospital by age group"), or worked out from the page's settings; the
    # period is added after it
    title: str | Callable[[Params], str]
    category: str  # the column of its chart's categories (a label, e.g. trust_name)
    # a column whose values become columns of their own (stacked in the chart), or one worked out
    # from the page's settings (the trends page's split)
    series: str | Callable[[Params], str | None] | None = None
    chart: str | Callable[[Params], str] = "bar"  # or worked out from the page's settings (trends)
    settings: Mapping[str, str] = field(default_factory=dict)  # page settings it is counted with (grain=quarter)
    drop: tuple[str, ...] = ()  # columns the sheet leaves out (the CSV has them all)
    value: str = "deaths"  # the column of counts its chart draws (the Reviews page's count reviews)

    def title_for(self, params: Params) -> str:
        return self.title(params) if callable(self.title) else self.title

    def series_column(self, params: Params) -> str | None:
        return self.series(params) if callable(self.series) else self.series

    def chart_kind(self, params: Params) -> str:
        kind = self.chart(params) if callable(self.chart) else self.chart
        if kind not in CHARTS:
            raise ValueError(f"chart must be one of {CHARTS}")
        return kind

"""The view's state lives in the URL query string, so a view can be bookmarked,
shared with a colleague and reloaded. Everything parsed here is untrusted and
is cleaned against the user's options before use (see ``dashboard.context``).
"""

from __future__ import annotations

from urllib.parse import parse_qs, urlencode

from queries.filters import Filters

# URL parameter -> Filters field
FILTER_PARAMS: dict[str, str] = {
    "fy": "financial_years",
    "from": "date_from",
    "to": "date_to",
    "trust": "trust_codes",
    "site": "site_codes",
    "place": "places",
    "age": "age_groups",
    "reviewer": "reviewing_cdops",
    "residence": "residence_groups",
    "status": "review_statuses",
    "area": "residence_areas",
}
SINGLE_VALUED = {"from", "to", "footprint", "grain", "split", "since", "lines", "window", "by", "suppress"}
VIEW_PARAMS = (
    "footprint",
    "grain",
    "split",
    "since",
    "lines",
    "window",
    "by",
)  # not filters, but part of what a view shows
# only in download links (a publication copy): a page's URL never keeps them, but a link built with one must
DOWNLOAD_PARAMS = ("suppress",)
MAX_QUERY_LENGTH = 4000
MAX_FIELDS = 300

Params = dict[str, list[str]]


def parse_query(search: object) -> Params:
    """Query string to {name: [values]}; anything malformed or oversized is empty."""
    if not isinstance(search, str) or len(search) > MAX_QUERY_LENGTH:
        return {}
    try:
        parsed = parse_qs(search.removeprefix("?"), keep_blank_values=False, max_num_fields=MAX_FIELDS)
    except ValueError:
        return {}
    return {key: values for key, values in parsed.items() if key in FILTER_PARAMS or key in SINGLE_VALUED}


def first(params: Params, name: str) -> str | None:
    values = params.get(name)
    return values[0] if values else None


def raw_filters(params: Params) -> dict[str, object]:
    """Untrusted filter values keyed by Filters field, for FilterOptions.clean."""
    raw: dict[str, object] = {}
    for param, field in FILTER_PARAMS.items():
        if param in params:
            raw[field] = params[param][0] if param in SINGLE_VALUED else params[param]
    return raw


def build_query(filters: Filters, view: dict[str, str | None] | None = None) -> str:
    """Filters (already clean) and view settings back to a query string."""
    pairs: list[tuple[str, str]] = []
    for name in (*VIEW_PARAMS, *DOWNLOAD_PARAMS):
        value = (view or {}).get(name)
        if value:
            pairs.append((name, value))
    pairs += [("fy", str(year)) for year in filters.financial_years]
    if filters.date_from:
        pairs.append(("from", filters.date_from.isoformat()))
    if filters.date_to:
        pairs.append(("to", filters.date_to.isoformat()))
    for param, field in FILTER_PARAMS.items():
        if param in ("fy", "from", "to"):
            continue
        pairs += [(param, value) for value in getattr(filters, field)]
    return f"?{urlencode(pairs)}" if pairs else ""

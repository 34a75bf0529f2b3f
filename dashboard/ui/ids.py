"""Every component id, in one place, so callbacks hold no id strings."""

from __future__ import annotations

URL = "url"
MAIN = "main"
PAGE_TITLE = "page-title"
DRAWN_PATH = "drawn-path"  # the path the first layout drew its view for

# header and filter bar (the shell)
FOOTPRINT = "footprint"
FOOTPRINT_BOX = "footprint-box"
FILTER_YEARS = "filter-years"
FILTER_FROM = "filter-from"
FILTER_TO = "filter-to"
FILTER_TRUST = "filter-trust"
FILTER_SITE = "filter-site"
FILTER_PLACE = "filter-place"
FILTER_AGE = "filter-age"
FILTER_REVIEWER = "filter-reviewer"
FILTER_RESIDENCE = "filter-residence"
FILTER_STATUS = "filter-status"
FILTER_AREA = "filter-area"
FILTER_RESET = "filter-reset"
FILTER_SUMMARY = "filter-summary"
FILTER_BAR = "filter-bar"
FILTER_OPTIONS_KEY = "filter-options-key"
STORE_MESSAGE = "store-message"
HEALTH_TIMER = "health-timer"
NEW_COUNT = "new-count"  # the indicator in the navigation
SEEN_MARK = "seen-mark"  # set when the user marks "What's new" as seen: the indicator follows it
FOOTPRINT_KEY = "footprint-key"  # the URL's footprint alone: the indicator follows it, not every filter

# The multi-select filters: component id -> (URL parameter, label).
FILTER_DROPDOWNS: dict[str, tuple[str, str]] = {
    FILTER_YEARS: ("fy", "Financial year"),
    FILTER_TRUST: ("trust", "Trust"),
    FILTER_SITE: ("site", "Hospital"),
    FILTER_PLACE: ("place", "Place in hospital"),
    FILTER_AGE: ("age", "Age group"),
    FILTER_REVIEWER: ("reviewer", "Reviewing CDOP"),
    FILTER_RESIDENCE: ("residence", "Residence"),
    FILTER_STATUS: ("status", "Review status"),
    FILTER_AREA: ("area", "Area of residence"),
}


def nav_link(page: str) -> str:
    return f"nav-{page}"


# overview
OVERVIEW_HEADLINE = "overview-headline"
OVERVIEW_PERIOD = "overview-period"
OVERVIEW_TRUST = "overview-trust"
OVERVIEW_AGE = "overview-age"
OVERVIEW_PLACE = "overview-place"
OVERVIEW_TREND = "overview-trend"

# trusts and hospitals
DRILL_CRUMBS = "drill-crumbs"
DRILL_CHART = "drill-chart"
DRILL_TABLE = "drill-table"

# reviewing CDOPs
REVIEW_HEADLINE = "review-headline"
REVIEW_BY_CDOP = "review-by-cdop"
REVIEW_MATRIX = "review-matrix"
REVIEW_BY_SITE = "review-by-site"
REVIEW_RESIDENCE = "review-residence"

# reviews
REVIEWS_PERIOD = "reviews-period"
REVIEWS_WINDOW = "reviews-window"
REVIEWS_BY = "reviews-by"
REVIEWS_TIMELINESS = "reviews-timeliness"
REVIEWS_OPEN = "reviews-open"
REVIEWS_ENGLAND = "reviews-england"
REVIEWS_POOLED = "reviews-pooled"
REVIEWS_CATEGORIES = "reviews-categories"
REVIEWS_EXPECTED = "reviews-expected"

# trends
TREND_GRAIN = "trend-grain"
TREND_SPLIT = "trend-split"
TREND_CHART = "trend-chart"

# map
GEO_PERIOD = "geo-period"
GEO_LINES = "geo-lines"
GEO_MAP = "geo-chart"
GEO_OUTSIDE = "geo-outside"
GEO_HOSPITALS = "geo-hospitals"
GEO_AREAS = "geo-areas"

# cases
CASES_GRID = "cases-grid"
CASES_GRID_BOX = "cases-grid-box"
CASES_COUNT = "cases-count"
CASES_GRID_CODE = "cases-grid-code"  # the address of AG Grid's code, loaded by this page only
CASES_GRID_READY = "cases-grid-ready"  # true once that code has run in this tab

# what's new
WHATSNEW_SINCE = "whatsnew-since"
WHATSNEW_DATE = "whatsnew-date"
WHATSNEW_DATE_GO = "whatsnew-date-go"
WHATSNEW_DATE_MESSAGE = "whatsnew-date-message"
WHATSNEW_MESSAGE = "whatsnew-message"
WHATSNEW_SUMMARY = "whatsnew-summary"
WHATSNEW_DOWNLOAD = "whatsnew-download"
WHATSNEW_LIST = "whatsnew-list"
WHATSNEW_ATTENTION = "whatsnew-attention"
WHATSNEW_AS_OF = "whatsnew-as-of"
WHATSNEW_MARK = "whatsnew-mark"
WHATSNEW_MARK_STATUS = "whatsnew-mark-status"

# about
ABOUT_FACTS = "about-facts"

# audit log (admins)
AUDIT_EVENT = "audit-event"
AUDIT_TABLE = "audit-table"


def part(name: str, role: str) -> str:
    """Ids of a chart card's parts: title, summary and download link."""
    return f"{name}-{role}"


# footprint mapping (admins)
MAP_DAY = "map-day"
MAP_IN_FORCE = "map-in-force"
MAP_HISTORY_CODE = "map-history-code"
MAP_HISTORY = "map-history"
MAP_KIND = "map-kind"
MAP_TRUST = "map-trust"
MAP_FROM = "map-from"
MAP_TO = "map-to"
MAP_CDOPS = "map-cdops"
MAP_CDOP = "map-cdop"
MAP_CODE = "map-code"
MAP_NAME = "map-name"
MAP_DATE = "map-date"
MAP_PREVIEW_BUTTON = "map-preview-button"
MAP_UPLOAD = "map-upload"
MAP_PREVIEW = "map-preview"
MAP_PREVIEWED = "map-previewed"
MAP_REASON = "map-reason"
MAP_APPLY = "map-apply"
MAP_RESULT = "map-result"

# users (admins)
USERS_TABLE = "users-table"
USERS_ACTION = "users-action"
USERS_NAME = "users-name"
USERS_CDOP = "users-cdop"
USERS_ROLE = "users-role"
USERS_GO = "users-go"
USERS_RESULT = "users-result"
USERS_EMAIL = "users-email"
USERS_DIGEST = "users-digest"

# my settings (the signed-in user's own e-mail digest)
SETTINGS_EMAIL = "settings-email"
SETTINGS_FREQUENCY = "settings-frequency"
SETTINGS_SAVE = "settings-save"
SETTINGS_RESEND = "settings-resend"
SETTINGS_STATUS = "settings-status"
SETTINGS_RESULT = "settings-result"

# data loads (admins)
LOADS_TABLE = "loads-table"
LOADS_CHOICE = "loads-choice"
LOADS_REJECTED = "loads-rejected"

# reference data (admins)
REFERENCE_SUMMARY = "reference-summary"

# page tools under the filter bar (dashboard.ui.page_tools): the pack, print, saved views
PAGE_TOOLS = "page-tools"
AS_AT = "as-at"  # the footer's "Data as at", printed at the foot of each page
PACK_LINKS = "pack-links"
SAVED_PANEL = "saved-panel"
SAVED_NAME = "saved-name"
SAVED_SAVE = "saved-save"
SAVED_LIST = "saved-list"  # the chooser of one's own views, to rename, delete or share
SAVED_RENAME = "saved-rename"
SAVED_DELETE = "saved-delete"
SAVED_SHARE = "saved-share"
SAVED_SHARE_CDOP = "saved-share-cdop"
SAVED_SHARE_BOX = "saved-share-box"
SAVED_LISTING = "saved-listing"  # the links that open each view, own and shared
SAVED_STATUS = "saved-status"

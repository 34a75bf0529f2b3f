"""The report's views, one module each: ``PATH``, ``NAME``, ``layout(**query)`` and its callbacks."""

from __future__ import annotations

from types import ModuleType

from dashboard.views import (
    about,
    admin_loads,
    admin_mapping,
    admin_reference,
    admin_users,
    audit_log,
    cases,
    map,
    my_settings,
    overview,
    reviewing,
    reviews,
    trends,
    trusts,
    whatsnew,
)

VIEWS: tuple[ModuleType, ...] = (
    overview,
    whatsnew,
    trusts,
    reviewing,
    reviews,
    map,
    trends,
    cases,
    about,
    my_settings,
    audit_log,
    admin_mapping,
    admin_users,
    admin_loads,
    admin_reference,
)
BY_PATH: dict[str, ModuleType] = {view.PATH: view for view in VIEWS}


def key(view: ModuleType) -> str:
    return view.__name__.rsplit(".", 1)[-1]


def admin_only(view: ModuleType) -> bool:
    return bool(getattr(view, "ADMIN_ONLY", False))


def uses_filters(view: ModuleType) -> bool:
    """Whether the view follows the filter bar (and so keeps it in step, see ``dashboard.ui.filter_bar``)."""
    return bool(getattr(view, "USES_FILTERS", True))

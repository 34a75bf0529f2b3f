"""The tools under the filter bar of a report page: its panel pack (Excel), print, saved views.

The pack links are plain links: ``assets/page-tools.js`` gives each, just before it is used, the
page's path and query (and ``suppress=1`` for the publication copy), as the navigation's links get
theirs; the server cleans that query like any other (``dashboard.pack.route``).
"""

from __future__ import annotations

from dash import html

from dashboard.pack.route import PACK_PATH
from dashboard.ui import ids
from dashboard.ui.saved_views import panel


def page_tools(*, hidden: bool, has_pack: bool, admin: bool) -> html.Section:
    return html.Section(
        id=ids.PAGE_TOOLS,
        hidden=hidden,
        className="page-tools",
        **{"aria-label": "Page tools"},
        children=[
            html.Div(
                id=ids.PACK_LINKS,
                hidden=not has_pack,
                className="pack-links",
                children=[
                    html.A(
                        "Download pack (Excel)",
                        href=PACK_PATH,
                        className="button secondary",
                        **{"data-pack": "page"},
                    ),
                    html.A(
                        "Download every page (Excel)",
                        href=f"{PACK_PATH}?pages=all",
                        className="button secondary",
                        **{"data-pack": "all"},
                    ),
                    html.A(
                        "Every page for publication, small numbers hidden (Excel)",
                        href=f"{PACK_PATH}?pages=all&suppress=1",
                        className="button secondary",
                        **{"data-pack": "all", "data-suppress": "1"},
                    ),
                ],
            ),
            html.Button("Print or save as PDF", type="button", className="button secondary", **{"data-print": "page"}),
            panel(admin=admin),
        ],
    )

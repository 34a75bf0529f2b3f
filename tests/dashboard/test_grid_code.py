"""AG Grid's code is in no page's HTML; the case list asks for it, and gets its grid only once it has run."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import dash_ag_grid
import pytest

from dashboard.ui import grid_code, ids
from dashboard.views import cases
from tests.dash_client import DashClient

BUNDLE_FILE = Path(dash_ag_grid.__file__).parent / grid_code.BUNDLE


def types_in(tree: Any) -> set[str]:
    """Every component type in a layout as Dash sends it (JSON)."""
    if isinstance(tree, list):
        return set().union(*(types_in(item) for item in tree)) if tree else set()
    if isinstance(tree, dict):
        found = {f"{tree['namespace']}.{tree['type']}"} if "type" in tree and "namespace" in tree else set()
        return found | types_in(tree.get("props", {}).get("children"))
    return set()


@pytest.mark.parametrize("path", ["/", "/cases", "/cases?fy=2024", "/trusts"])
def test_no_page_writes_ag_grids_code_into_its_html(llr: DashClient, path: str) -> None:
    page = llr.client.get(path).get_data(as_text=True)
    assert "/_dash-component-suites/dash/dash-renderer/" in page  # the page's other scripts are all there
    assert "/_dash-component-suites/dash_ag_grid/" not in page


def test_the_bundle_is_still_served_at_its_address_and_cached_as_long_as_dash_caches(llr: DashClient) -> None:
    llr.client.get("/")  # Dash learns which files it serves on its first request
    address = grid_code.address()
    assert address.startswith("/_dash-component-suites/dash_ag_grid/dash_ag_grid.v")
    response = llr.client.get(address)
    assert response.status_code == 200
    assert response.get_data() == BUNDLE_FILE.read_bytes()
    assert response.cache_control.max_age == 31_536_000  # Dash read the fingerprint as its own
    # the chunk the bundle loads when a grid is drawn, found beside it
    assert llr.client.get("/_dash-component-suites/dash_ag_grid/async-community.js").status_code == 200


def test_deferring_twice_changes_nothing() -> None:
    grid_code.defer()
    grid_code.defer()
    bundles = [r for r in dash_ag_grid._js_dist if r.get("relative_package_path") == grid_code.BUNDLE]
    assert bundles == [{**bundles[0], "dynamic": True}]
    assert not any(r.get("dynamic") for r in dash_ag_grid._js_dist if r.get("async"))  # its chunks as they were


def test_the_case_list_arrives_without_a_grid_but_with_the_address_of_its_code(llr: DashClient) -> None:
    got = llr.outputs(f"{ids.MAIN}.children", {"url.pathname": cases.PATH, "url.search": "?fy=2024"})
    main = got[f"{ids.MAIN}.children"]
    assert not any(name.startswith("dash_ag_grid.") for name in types_in(main))  # the renderer could not draw it yet
    assert grid_code.address() in json.dumps(main)
    assert cases.GRID_LOADING in json.dumps(main, ensure_ascii=False)


@pytest.mark.parametrize("ready", [True, None, False, "true", 1, [True], {"ready": True}])
def test_the_grid_comes_only_once_its_code_has_run_and_the_count_regardless(llr: DashClient, ready: Any) -> None:
    def refresh(flag: Any) -> dict[str, Any]:
        values = {"url.search": "?fy=2024", f"{ids.CASES_GRID_READY}.data": flag}
        return llr.outputs(f"{ids.CASES_COUNT}.children", values)

    got, with_grid = refresh(ready), refresh(True)
    box = got[f"{ids.CASES_GRID_BOX}.children"]
    assert got[f"{ids.CASES_COUNT}.children"] == with_grid[f"{ids.CASES_COUNT}.children"]  # the flag changes no number
    if ready is True:
        assert types_in(box) == {"dash_ag_grid.AgGrid"}
        assert box["props"]["id"] == ids.CASES_GRID
    else:
        assert types_in(box) == {"dash_html_components.P"}
        assert cases.GRID_UNAVAILABLE in json.dumps(box)

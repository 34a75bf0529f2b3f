"""Text the browser already shows is not sent again (``dashboard.ui.unchanged``): what a callback
leaves out is exactly what the browser sent back unchanged, and what the browser claims to show
never changes what the server computes, only whether it is sent."""

from __future__ import annotations

import pytest
from dash import no_update

from dashboard.ui import ids, unchanged
from dashboard.views import overview, reviewing, reviews
from tests.dash_client import OVERVIEW, DashClient, split_outputs

PERIOD = f"{ids.OVERVIEW_PERIOD}.children"
TEXT = [f"{output.component_id}.{output.component_property}" for output in overview.TEXT]


def test_only_changed_leaves_out_exactly_the_values_already_shown() -> None:
    assert unchanged.only_changed(["a", "b", 3], ["a", "x", 3]) == [no_update, "b", no_update]
    assert unchanged.only_changed(["", "b"], [None, None]) == ["", "b"]  # never shown yet: sent
    with pytest.raises(ValueError, match="2 values for 1 outputs"):
        unchanged.only_changed(["a", "b"], ["a"])


def test_the_overview_sets_its_text_beside_its_outputs_not_as_outputs(llr: DashClient) -> None:
    """Dash marks (and redraws) every output of a callback as loading while it runs: the overview's
    outputs are its charts alone, and its text is set (``set_props``) with the answer."""
    assert {o["id"] for o in split_outputs(llr.find(OVERVIEW)["output"])} == set(overview.CHARTS)
    assert set(TEXT) <= set(llr.outputs(OVERVIEW, {"url.search": "?fy=2023"}))


def test_the_overview_sends_only_the_text_that_changed(llr: DashClient) -> None:
    first = llr.outputs(OVERVIEW, {"url.search": "?fy=2023"})
    assert set(TEXT) <= set(first)  # nothing shown yet: all of it
    # the browser now shows that answer; an age group chosen changes counts, not headings
    shown = {key: first[key] for key in TEXT}
    second = llr.outputs(OVERVIEW, {"url.search": "?fy=2023&age=0-27d", **shown})
    sent = [key for key in TEXT if key in second]
    left_out = [key for key in TEXT if key not in second]
    assert PERIOD in left_out and f"{ids.part(ids.OVERVIEW_TRUST, 'title')}.children" in left_out
    assert f"{ids.OVERVIEW_HEADLINE}-0-value.children" in sent
    fresh = llr.outputs(OVERVIEW, {"url.search": "?fy=2023&age=0-27d"})
    for key in TEXT:  # what was sent is what a fresh answer holds; what was left out, the browser had
        assert second.get(key, shown[key]) == fresh[key], key


def keys_of(outputs) -> list[str]:
    return [f"{output.component_id}.{output.component_property}" for output in outputs]


# each page's text, and the output that names the callback that sends it
TEXTS = {
    "overview": (overview.TEXT, f"{overview.CHARTS[0]}.figure"),
    "reviewing": (reviewing.TEXT, f"{reviewing.CHARTS[0]}.figure"),
    "reviews": (reviews.REFRESH_TEXT, keys_of(reviews.REFRESH_TEXT)[0]),
    "reviews-england": (reviews.ENGLAND_TEXT, keys_of(reviews.ENGLAND_TEXT)[0]),
    "reviews-windows": (reviews.WINDOWS_TEXT, keys_of(reviews.WINDOWS_TEXT)[0]),
}


@pytest.mark.parametrize("name", TEXTS)
def test_what_the_browser_claims_to_show_only_decides_what_is_sent(llr: DashClient, name: str) -> None:
    text, callback = TEXTS[name]
    forged = {key: "RBS Royal Brompton; 9,999 deaths" for key in keys_of(text)}
    answer = llr.outputs(callback, {"url.search": "?fy=2023", **forged})
    plain = llr.outputs(callback, {"url.search": "?fy=2023"})
    assert answer == plain


def test_the_reviews_page_sends_only_the_text_that_changed(llr: DashClient) -> None:
    keys = keys_of(reviews.REFRESH_TEXT)
    first = llr.outputs(keys[0], {"url.search": "?fy=2023"})
    assert set(keys) <= set(first)
    shown = {key: first[key] for key in keys}
    # five years pooled: the window's buttons change, the lede and the timeliness cards do not
    second = llr.outputs(keys[0], {"url.search": "?fy=2023&window=5", **shown})
    assert f"{reviews.WINDOW_BUTTONS['5']}.aria-pressed" in second
    assert f"{reviews.WINDOW_BUTTONS['3']}.aria-pressed" in second
    assert keys[0] not in second and f"{reviews.BY_BUTTONS['financial_year']}.aria-pressed" not in second
    fresh = llr.outputs(keys[0], {"url.search": "?fy=2023&window=5"})
    for key in keys:
        assert second.get(key, shown[key]) == fresh[key], key
    windows = keys_of(reviews.WINDOWS_TEXT)
    before = llr.outputs(windows[0], {"url.search": "?fy=2023"})
    after = llr.outputs(windows[0], {"url.search": "?fy=2023&window=5", **{key: before[key] for key in windows}})
    assert windows[0] in after  # the pooled table's heading names the new window

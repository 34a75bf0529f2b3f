"""Where sign-in sends a person: a path on this site, never another site (issue 13, item 1)."""

from __future__ import annotations

from urllib.parse import quote, urljoin, urlsplit

import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st

from dashboard.auth.redirect_target import HOME, local_target
from tests.conftest import post_login

ORIGIN = "https://cdop.example.nhs.uk/"


def as_a_browser_reads(location: str) -> str:
    """What a browser makes of a Location header before resolving it (WHATWG URL
    parsing): leading and trailing C0 controls and spaces dropped, tab, CR and LF
    removed anywhere, and a backslash read as a slash."""
    trimmed = location.strip("".join(chr(c) for c in range(0x21)))
    return trimmed.replace("\t", "").replace("\r", "").replace("\n", "").replace("\\", "/")


def stays_here(location: str) -> bool:
    resolved = urlsplit(urljoin(ORIGIN, as_a_browser_reads(location)))
    return resolved.scheme == "https" and resolved.netloc == "cdop.example.nhs.uk"


# pieces an attacker would combine: separators, controls, schemes, hosts
PIECES = st.sampled_from(
    [
        "/",
        "//",
        "\\",
        "\t",
        "\r",
        "\n",
        "\x00",
        "\x0b",
        "\x0c",
        " ",
        "\u3000",
        "\u2028",
        "%2F",
        "%09",
        "%5C",
        ":",
        "@",
        "?",
        "#",
        ".",
        "..",
        "evil.example",
        "https:",
        "javascript:",
        "trusts",
        "fy=2024",
        "&",
        "=",
        "\u2215",
    ]
)
HOSTILE = st.lists(PIECES, max_size=8).map("".join)


@given(st.one_of(HOSTILE, st.text(max_size=40)))
@settings(max_examples=600, deadline=None)
@example("/\t/evil.example")
@example("/\r\n/evil.example")
@example("/\\evil.example")
@example("\t//evil.example")
@example("/%09/evil.example")
@example(" //evil.example")
def test_the_target_never_leaves_the_site_and_is_a_plain_path(raw: str) -> None:
    target = local_target(raw)
    assert target.startswith("/") and not target.startswith(("//", "/\\"))
    assert target == as_a_browser_reads(target)  # nothing a browser would strip or reinterpret
    assert stays_here(target)
    assert "#" not in target
    assert local_target(target) == target  # a second pass changes nothing


@pytest.mark.parametrize(
    "raw",
    [
        "/\t/evil.example",
        "/\r\n/evil.example",
        "/\n/evil.example",
        "/\x0b/evil.example",
        "/ /evil.example",
        "\t//evil.example/",
        "//evil.example",
        "/\\evil.example",
        "https://evil.example/",
        "javascript:alert(1)",
        "",
        None,
    ],
)
def test_known_tricks_go_home(raw: str | None) -> None:
    assert local_target(raw) == HOME


@pytest.mark.parametrize("raw", ["/trusts", "/trusts?fy=2024&place=NICU", "/cases?trust=RRK&from=2024-04-01", "/about"])
def test_ordinary_paths_are_kept_as_they_are(raw: str) -> None:
    assert local_target(raw) == raw


def test_anything_outside_the_allow_list_goes_home_rather_than_being_repaired() -> None:
    # the gate's own next values never hold a fragment, quotes or spaces: such a value was made by hand
    for raw in ("/trusts?fy=2024#chart", '/trusts"onload', "/trusts?x=<b>", "/trusts?a b"):
        assert local_target(raw) == HOME


@pytest.mark.parametrize("raw", ["/\t/evil.example", "/\r\n/evil.example", "/\r/evil.example", "/\\\\evil.example"])
def test_sign_in_with_a_hostile_next_redirects_home_and_never_fails(dash_app, raw: str) -> None:
    client = dash_app.server.test_client()
    response = post_login(client, "glos", "demo-glos", query=f"?next={quote(raw, safe='')}")
    assert response.status_code == 302
    assert stays_here(response.headers["Location"])
    assert urlsplit(urljoin(ORIGIN, response.headers["Location"])).path == "/"


def test_sign_in_keeps_an_ordinary_next(dash_app) -> None:
    client = dash_app.server.test_client()
    response = post_login(client, "glos", "demo-glos", query="?next=" + quote("/trusts?fy=2024", safe=""))
    assert response.status_code == 302 and response.headers["Location"] == "/trusts?fy=2024"

"""My settings and the users page through the app's HTTP interface: an address saved, its link
sent through the real SMTP server, followed (signed, expiring, for its own account only), and
forged requests that change nothing."""

from __future__ import annotations

import re
import time
from pathlib import Path

import pytest
from itsdangerous import TimestampSigner, URLSafeTimedSerializer

from dashboard.ui import ids
from digest import links
from operational import audit, digests
from tests.dash_client import DashClient
from tests.digest.world import DigestWorld, text_of
from tests.mail_server import MailServer

ADDRESS = "nurse.llr@example.nhs.uk"
SAVE = f"{ids.SETTINGS_RESULT}.children...{ids.SETTINGS_STATUS}.children"


@pytest.fixture
def world(tmp_path: Path, mail_server: MailServer) -> DigestWorld:
    return DigestWorld(tmp_path / "instance", mail_server)


def save(client: DashClient, email: object, choice: object) -> dict[str, object]:
    values = {
        f"{ids.SETTINGS_SAVE}.n_clicks": 1,
        f"{ids.SETTINGS_EMAIL}.value": email,
        f"{ids.SETTINGS_FREQUENCY}.value": choice,
    }
    dependency = next(d for d in client.dependencies if ids.SETTINGS_SAVE in str(d["inputs"]))
    response = client.client.post("/_dash-update-component", json=client.body(dependency, values))
    assert response.status_code in (200, 204), response.status_code
    if response.status_code == 204:
        return {}
    return {f"{c}.{p}": v for c, props in response.get_json()["response"].items() for p, v in props.items()}


def resend(client: DashClient, clicks: object):
    dependency = next(d for d in client.dependencies if ids.SETTINGS_RESEND in str(d["inputs"]))
    values = {f"{ids.SETTINGS_RESEND}.n_clicks": clicks}
    return client.client.post("/_dash-update-component", json=client.body(dependency, values))


def link_in(world: DigestWorld, address: str) -> str:
    (message,) = world.mail.mailbox.to(address)
    assert message["Subject"] == "Deaths by hospital trust: confirm your e-mail address for digests"
    found = re.search(r"https://cdop\.example\.nhs\.uk(/settings/verify\?token=\S+)", text_of(message))
    assert found
    return found.group(1)


def confirm(client, path: str):
    page = client.get(path)
    if page.status_code != 200:
        return page
    token = re.search(r'name="token" value="([^"]+)"', page.get_data(as_text=True)).group(1)
    csrf = re.search(r'name="csrf_token" value="([^"]+)"', page.get_data(as_text=True)).group(1)
    return client.post(links.VERIFY_PATH, data={"token": token, "csrf_token": csrf})


def test_a_user_saves_an_address_follows_its_link_and_is_then_sent_digests(world: DigestWorld) -> None:
    llr = world.client("llr")
    llr_id = world.user_id("llr")
    digests.subscribe(world.engine, llr_id, None, "off")  # start from nothing
    out = save(llr, f"  {ADDRESS.upper().replace('EXAMPLE.NHS.UK', 'Example.NHS.uk')} ", "weekly")
    assert "A link to confirm the address was sent to NURSE.LLR@example.nhs.uk" in str(
        out[f"{ids.SETTINGS_RESULT}.children"]
    )
    assert str(out[f"{ids.SETTINGS_STATUS}.children"]).startswith("Waiting for you to confirm NURSE.LLR@example.nhs.uk")
    sub = digests.get(world.engine, llr_id)
    assert sub.email == "NURSE.LLR@example.nhs.uk" and not sub.verified and sub.frequency == "weekly"
    path = link_in(world, "NURSE.LLR@example.nhs.uk")

    # nothing is sent to an address before it is confirmed
    (skipped,) = world.send(only_user="llr").outcomes
    assert skipped.status == "skipped" and skipped.detail == "no confirmed address, or the digest is off"
    done = confirm(llr.client, path)
    assert done.status_code == 200 and "is confirmed" in done.get_data(as_text=True)
    sub = digests.get(world.engine, llr_id)
    assert sub.verified and sub.digest_mark == world.newest_load()
    events = [e["event"] for e in audit.recent(world.engine, 20) if e["username"] == "llr"]
    assert {"digest_settings", "digest_link_sent", "digest_verified"} <= set(events)
    page = llr.client.get("/settings")
    assert page.status_code == 200


def test_a_link_verifies_only_for_its_own_account_and_only_while_it_is_unchanged_and_fresh(world: DigestWorld) -> None:
    llr, ncl = world.client("llr"), world.client("ncl")
    save(llr, ADDRESS, "daily")
    path = link_in(world, ADDRESS)
    someone_else = confirm(ncl.client, path)
    assert someone_else.status_code == 400 and "made for another account" in someone_else.get_data(as_text=True)
    assert not digests.get(world.engine, world.user_id("llr")).verified
    assert audit.recent(world.engine, event="forbidden")[0]["username"] == "ncl"

    token = path.split("token=", 1)[1]
    for broken in (
        token[:-2] + ("AA" if not token.endswith("AA") else "BB"),
        "",
        "x" * 2000,
        token.replace(".", "", 1),
    ):
        answer = llr.client.get(f"{links.VERIFY_PATH}?token={broken}")
        assert answer.status_code == 400 and "Traceback" not in answer.get_data(as_text=True)

    class LongAgo(TimestampSigner):
        def get_timestamp(self) -> int:
            return int(time.time()) - (links.LINK_HOURS + 1) * 3600

    key = world.app.server.config["SECRET_KEY"]
    old = URLSafeTimedSerializer(key, salt=links.SALT, signer=LongAgo).dumps({"u": world.user_id("llr"), "e": ADDRESS})
    expired = llr.client.get(f"{links.VERIFY_PATH}?token={old}")
    assert expired.status_code == 400 and "has expired" in expired.get_data(as_text=True)

    save(llr, "another.address@example.nhs.uk", "daily")  # the address changes: the old link is void
    stale = confirm(llr.client, path)
    assert stale.status_code == 409 and not digests.get(world.engine, world.user_id("llr")).verified


def test_opening_the_link_confirms_nothing_until_the_button_is_pressed_and_the_post_needs_its_csrf_token(
    world: DigestWorld,
) -> None:
    llr = world.client("llr")
    save(llr, ADDRESS, "daily")
    path = link_in(world, ADDRESS)
    assert llr.client.get(path).status_code == 200
    assert not digests.get(world.engine, world.user_id("llr")).verified
    token = path.split("token=", 1)[1]
    forged = llr.client.post(links.VERIFY_PATH, data={"token": token})
    assert forged.status_code == 400 and not digests.get(world.engine, world.user_id("llr")).verified
    anonymous = world.app.server.test_client()
    answer = anonymous.get(path)
    assert answer.status_code == 302 and answer.headers["Location"].startswith("/login?next=")
    assert anonymous.post(links.VERIFY_PATH, data={"token": token}).status_code in (302, 400)
    assert not digests.get(world.engine, world.user_id("llr")).verified


@pytest.mark.parametrize(
    ("email", "choice"),
    [
        ("someone@example.nhs.uk\r\nBcc: everyone@example.com", "daily"),
        ("<a@example.nhs.uk>", "daily"),
        ("a@b", "daily"),
        ("x" * 5000 + "@example.nhs.uk", "daily"),
        (["a@example.nhs.uk"], "daily"),
        ({"user_id": 1}, "daily"),
        (12, "weekly"),
        ("a@example.nhs.uk", "hourly"),
        ("a@example.nhs.uk", ["daily"]),
        ("a@example.nhs.uk", None),
        ("", "daily"),
    ],
)
def test_forged_settings_change_nothing_and_send_nothing(world: DigestWorld, email: object, choice: object) -> None:
    llr = world.client("llr")
    before = digests.get(world.engine, world.user_id("llr"))
    out = save(llr, email, choice)
    message = str(out[f"{ids.SETTINGS_RESULT}.children"])
    assert "Nothing was changed" in message and "Traceback" not in message
    assert digests.get(world.engine, world.user_id("llr")) == before
    assert world.mail.mailbox.messages == []


def test_the_settings_callbacks_change_the_signed_in_users_own_settings_only(world: DigestWorld) -> None:
    ncl_before = digests.get(world.engine, world.user_id("ncl"))
    llr = world.client("llr")
    for search in ("?user=ncl", "?user_id=2&footprint=NCL"):
        dependency = next(d for d in llr.dependencies if ids.SETTINGS_SAVE in str(d["inputs"]))
        values = {
            f"{ids.SETTINGS_SAVE}.n_clicks": 1,
            f"{ids.SETTINGS_EMAIL}.value": ADDRESS,
            f"{ids.SETTINGS_FREQUENCY}.value": "daily",
            "url.search": search,
        }
        llr.client.post("/_dash-update-component", json=llr.body(dependency, values))
    assert digests.get(world.engine, world.user_id("ncl")) == ncl_before
    assert digests.get(world.engine, world.user_id("llr")).email == ADDRESS
    # a second link moments later is refused, so the page cannot flood a mailbox
    answer = resend(llr, 1)
    assert answer.status_code == 200 and "moments ago" in str(answer.get_json())
    assert len(world.mail.mailbox.to(ADDRESS)) == 1
    for clicks in (0, None, "1", True, -3):
        assert resend(llr, clicks).status_code == 204
    anonymous = DashClient.__new__(DashClient)
    anonymous.client, anonymous.dependencies = world.app.server.test_client(), llr.dependencies
    assert resend(anonymous, 1).status_code == 401


def test_without_mail_settings_the_address_is_saved_and_the_page_says_the_link_was_not_sent(
    tmp_path: Path, mail_server: MailServer
) -> None:
    world = DigestWorld(tmp_path / "instance", mail_server, SMTP_HOST="")
    out = save(world.client("llr"), ADDRESS, "daily")
    assert "The link to confirm the address was not sent: SMTP_HOST is not set" in str(
        out[f"{ids.SETTINGS_RESULT}.children"]
    )
    assert digests.get(world.engine, world.user_id("llr")).email == ADDRESS


def test_an_administrator_sets_a_users_digest_on_the_users_page_and_no_one_else_can(world: DigestWorld) -> None:
    admin = world.client("admin", "admin-demo")
    values = {
        f"{ids.USERS_GO}.n_clicks": 1,
        f"{ids.USERS_ACTION}.value": "digest",
        f"{ids.USERS_NAME}.value": "llr.nurse",
        f"{ids.USERS_EMAIL}.value": ADDRESS,
        f"{ids.USERS_DIGEST}.value": "weekly-always",
    }
    out = admin.outputs(f"{ids.USERS_RESULT}.children", values)
    assert "llr.nurse: Saved: weekly, even when nothing is new to nurse.llr@example.nhs.uk (not verified yet)" in str(
        out
    )
    link_in(world, ADDRESS)
    entry = audit.recent(world.engine, event="admin_action")[0]
    assert entry["username"] == "admin" and entry["detail"]["target"] == "llr.nurse"
    listing = admin.outputs(f"{ids.USERS_TABLE}.children", {f"{ids.USERS_RESULT}.children": "x"})
    assert "weekly, even when nothing is new to nurse.llr@example.nhs.uk (not verified yet)" in str(listing)

    llr = world.client("llr")
    values[f"{ids.USERS_NAME}.value"] = "ncl"
    assert llr.call(f"{ids.USERS_RESULT}.children", values).status_code == 204
    assert digests.get(world.engine, world.user_id("ncl")).email == "ncl.manager@example.nhs.uk"
    assert audit.recent(world.engine, event="forbidden")[0]["username"] == "llr"

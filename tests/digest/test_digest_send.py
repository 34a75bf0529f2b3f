"""`python app.py digest send` against a real SMTP server on loopback: one digest per opted-in user
with new deaths, its counts the What's new page's, none twice, none to an unverified address, and a
failure (the server down, an address refused) that leaves that user's mark for the next run."""

from __future__ import annotations

import re
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import pytest

from dashboard.ui import ids
from digest import run
from operational import audit, digests
from queries import whatsnew
from tests.digest.world import ADDRESSES, UNVERIFIED, DigestWorld, counted, html_of, text_of
from tests.mail_server import MailServer


@pytest.fixture
def world(tmp_path: Path, mail_server: MailServer) -> DigestWorld:
    return DigestWorld(tmp_path / "instance", mail_server)


def page_counts(world: DigestWorld, name: str, search: str) -> dict[str, int]:
    """The What's new page's group headings ('title: n') and attention lines ('label (why): n'), as counts."""
    out = world.client(name).outputs(f"{ids.WHATSNEW_SUMMARY}.children", {"url.search": search})
    found: dict[str, int] = {}
    for title in whatsnew.GROUPS.values():
        heading = re.search(rf"'{re.escape(title)}: ([\d,]+)'", str(out[f"{ids.WHATSNEW_LIST}.children"]))
        found[title] = int(heading.group(1)) if heading else 0
    for label, n in re.findall(r"'([^']+?) \([^']*\): ([\d,]+)'", str(out[f"{ids.WHATSNEW_ATTENTION}.children"])):
        found[f"all: {label}"] = int(n)
    found["total"] = int(
        re.match(r"([\d,]+|No) deaths?", out[f"{ids.WHATSNEW_SUMMARY}.children"]).group(1).replace("No", "0")
    )
    return found


def digest_counts(message) -> dict[str, int]:
    """The same counts from a digest's text: its groups, the page's attention section, its total."""
    text = text_of(message)
    groups, _new_flags, all_flags = re.split(
        r"\n\n(?=Of these new deaths|Needing attention in)", text.split("By who reviews them:\n", 1)[1]
    )[:3]
    found = {label: n for label, n in counted(groups).items() if label in whatsnew.GROUPS.values()}
    found |= {f"all: {label}": n for label, n in counted(all_flags).items()}
    found["total"] = int(re.search(r"^([\d,]+) new deaths? in the hospitals", text, re.MULTILINE).group(1))
    return found


def test_one_digest_per_opted_in_user_with_new_deaths_with_the_pages_counts_and_a_second_run_sends_nothing(
    world: DigestWorld,
) -> None:
    first = world.cli("digest", "send")
    assert first.returncode == 0, first.stderr
    assert "sent 2 digests; 0 failed" in first.stdout
    inbox = world.mail.mailbox
    assert sorted(m["To"] for m in inbox.messages) == sorted([ADDRESSES["llr"], ADDRESSES["ncl"]])
    assert not inbox.to(UNVERIFIED) and not inbox.to(ADDRESSES["blu"]) and not inbox.to(ADDRESSES["leeds"])

    for name in ("llr", "ncl"):
        (message,) = inbox.to(ADDRESSES[name])
        link = re.search(r"https://cdop\.example\.nhs\.uk/new\?\S+", text_of(message)).group(0)
        since = parse_qs(urlsplit(link).query)["since"][0]
        assert since == world.first_load.isoformat()  # the period: since the load their previous mark was at
        page = page_counts(world, name, f"?since={since}")
        assert digest_counts(message) == page
        # and the same as "since my last visit" for a user whose visit mark is that first load
    llr = digest_counts(inbox.to(ADDRESSES["llr"])[0])
    assert llr["total"] == 4 and llr["Non-residents reviewed by another CDOP"] == 2
    assert digest_counts(inbox.to(ADDRESSES["ncl"])[0])["total"] == 1

    second = world.cli("digest", "send")
    assert second.returncode == 0, second.stderr
    assert "sent 0 digests; 0 failed" in second.stdout
    assert len(inbox.messages) == 2


def test_the_message_names_the_app_and_footprint_and_holds_nothing_about_any_one_death(world: DigestWorld) -> None:
    world.send()
    (message,) = world.mail.mailbox.to(ADDRESSES["llr"])
    assert message["Subject"] == (
        "Deaths by hospital trust: 4 new deaths in the hospitals of Leicester, Leicestershire and Rutland CDOP"
    )
    assert message["From"] == "cdop-digest@example.nhs.uk" and message["Auto-Submitted"] == "auto-generated"
    assert message.get_body(("plain",)) is not None and message.get_body(("html",)) is not None
    conn = world.app.server.extensions["cdop"].store.cursor()
    try:
        rows = conn.execute(
            "SELECT case_id, case_ref, CAST(date_of_death AS VARCHAR), CAST(notification_date AS VARCHAR) FROM deaths"
        ).fetchall()
        hospitals = [r[0] for r in conn.execute("SELECT site_name FROM ref_sites").fetchall()]
        hospitals += [r[0] for r in conn.execute("SELECT trust_name FROM ref_trusts").fetchall()]
    finally:
        conn.close()
    for part in (text_of(message), html_of(message), str(message["Subject"])):
        for case_id, case_ref, died, notified in rows:
            assert case_id not in part and case_ref not in part
            assert died not in part and notified not in part
            assert died.replace("-", "/") not in part
        assert not [name for name in hospitals if name in part]
        months = "January|February|March|April|May|June|July|August|September|October|November|December"
        assert not re.search(rf"\b\d{{1,2}} ({months}) 20(0|1|2[0-5])", part)  # the deaths are 2024-2025


def test_a_stopped_server_sends_nothing_exits_non_zero_and_the_next_run_sends_every_due_digest_once(
    world: DigestWorld,
) -> None:
    world.mail.stop()
    down = world.cli("digest", "send")
    assert down.returncode == 1
    assert "Traceback" not in down.stderr
    failures = [line for line in down.stderr.splitlines() if line.strip()]
    assert len(failures) == 2 and all("could not be reached" in line for line in failures), down.stderr
    assert world.mail.mailbox.messages == []
    for name in ("llr", "ncl"):
        assert digests.get(world.engine, world.user_id(name)).digest_mark == world.first_load  # left where it was
    failed = audit.recent(world.engine, event="digest_failed")
    assert sorted(e["username"] for e in failed) == ["llr", "ncl"] and failed[0]["detail"]["total"] in (1, 4)

    world.mail.start()
    back = world.cli("digest", "send")
    assert back.returncode == 0, back.stderr
    assert sorted(m["To"] for m in world.mail.mailbox.messages) == sorted([ADDRESSES["llr"], ADDRESSES["ncl"]])
    again = world.cli("digest", "send")
    assert again.returncode == 0 and len(world.mail.mailbox.messages) == 2


def test_a_refused_address_fails_that_user_alone_and_is_tried_again_next_time(world: DigestWorld) -> None:
    world.mail.mailbox.refuse.add(ADDRESSES["llr"])
    report = world.send()
    assert report.exit_code == 1
    assert {o.username: o.status for o in report.outcomes if o.status in ("sent", "failed")} == {
        "llr": "failed",
        "ncl": "sent",
    }
    assert "refused the address (550" in report.failed[0].detail
    assert [m["To"] for m in world.mail.mailbox.messages] == [ADDRESSES["ncl"]]
    llr = digests.get(world.engine, world.user_id("llr"))
    assert llr.digest_mark == world.first_load and llr.last_sent_at is None and llr.claimed_at is None
    sent = audit.recent(world.engine, event="digest_sent")
    assert [e["username"] for e in sent] == ["ncl"] and sent[0]["detail"]["total"] == 1
    assert sent[0]["detail"]["groups"] == {"elsewhere": 0, "unassigned": 0, "residents": 1, "local": 0}

    world.mail.mailbox.refuse.clear()
    again = world.send()
    assert again.exit_code == 0
    assert [m["To"] for m in world.mail.mailbox.messages] == [ADDRESSES["ncl"], ADDRESSES["llr"]]


def test_a_dry_run_prints_what_would_be_sent_and_sends_nothing_and_user_limits_a_run(world: DigestWorld) -> None:
    dry = world.cli("digest", "send", "--dry-run")
    assert dry.returncode == 0, dry.stderr
    assert f"would send to {ADDRESSES['llr']}" in dry.stdout and f"would send to {ADDRESSES['ncl']}" in dry.stdout
    assert "Subject: Deaths by hospital trust: 4 new deaths in the hospitals of Leicester" in dry.stdout
    assert "would send 2 digests" in dry.stdout
    assert world.mail.mailbox.messages == []
    assert digests.get(world.engine, world.user_id("llr")).digest_mark == world.first_load
    assert audit.recent(world.engine, event="digest_sent") == []

    only = world.cli("digest", "send", "--user", "NCL")
    assert only.returncode == 0, only.stderr
    assert [m["To"] for m in world.mail.mailbox.messages] == [ADDRESSES["ncl"]]
    unknown = world.cli("digest", "send", "--user", "nobody")
    assert unknown.returncode == 2 and unknown.stderr.strip() == "error: no user 'nobody'"


def test_weekly_even_when_nothing_is_new_sends_a_digest_of_zeros(world: DigestWorld) -> None:
    world.opt_in("blu", ADDRESSES["blu"], "weekly", when_empty=True)
    world.send(only_user="blu")
    (message,) = world.mail.mailbox.to(ADDRESSES["blu"])
    assert (
        message["Subject"] == "Deaths by hospital trust: No new deaths in the hospitals of Bedfordshire and Luton CDOP"
    )
    assert "Needing attention in your hospitals" in text_of(message)


@pytest.mark.parametrize(
    ("environ", "message"),
    [
        ({"SMTP_TLS": "off", "SMTP_HOST": "192.0.2.10"}, "SMTP_TLS=off to 192.0.2.10, which is not this machine"),
        ({"SMTP_HOST": ""}, "SMTP_HOST is not set"),
        ({"MAIL_FROM": ""}, "MAIL_FROM is not set"),
        ({"PUBLIC_URL": ""}, "PUBLIC_URL is not set"),
        ({"PUBLIC_URL": "cdop.example.nhs.uk"}, "PUBLIC_URL must be an http(s) address"),
        ({"SMTP_TLS": "maybe"}, "SMTP_TLS must be starttls, ssl or off, not 'maybe'"),
    ],
)
def test_unusable_mail_settings_are_refused_before_anything_is_sent(
    world: DigestWorld, environ: dict[str, str], message: str
) -> None:
    result = world.cli("digest", "send", **environ)
    assert result.returncode == (1 if "SMTP_TLS" in environ and environ["SMTP_TLS"] == "maybe" else 2)
    lines = [line for line in result.stderr.splitlines() if line.strip()]
    assert len(lines) == 1 and message in lines[0], result.stderr
    assert world.mail.mailbox.messages == []
    assert digests.get(world.engine, world.user_id("llr")).digest_mark == world.first_load


def test_starttls_required_but_not_offered_fails_without_sending_in_clear(world: DigestWorld) -> None:
    result = world.cli("digest", "send", SMTP_TLS="starttls")
    assert result.returncode == 1
    assert "does not offer STARTTLS" in result.stderr
    assert world.mail.mailbox.messages == []


def test_an_unexpected_error_for_one_user_is_their_failure_alone(world: DigestWorld, monkeypatch) -> None:
    real_count = run.count

    def failing_for_ncl(conn, scope, since, rule):  # a fault in one user's counting, as a broken store would give
        if scope.label == "North Central London CDOP":
            raise RuntimeError("the deaths store could not be read\nsecond line")
        return real_count(conn, scope, since, rule)

    monkeypatch.setattr(run, "count", failing_for_ncl)
    report = world.send()
    assert report.exit_code == 1
    assert [(o.username, o.detail) for o in report.failed] == [
        ("ncl", "the deaths store could not be read second line")
    ]
    assert [m["To"] for m in world.mail.mailbox.messages] == [ADDRESSES["llr"]]
    ncl = digests.get(world.engine, world.user_id("ncl"))
    assert ncl.digest_mark == world.first_load and ncl.claimed_at is None
    assert audit.recent(world.engine, event="digest_failed")[0]["username"] == "ncl"

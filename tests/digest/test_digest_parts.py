"""The digest's parts on their own: when a digest is due, the settings it refuses, addresses,
links, the claim that keeps two runs from both sending, and the What's new page's digest period."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import Engine, insert

from dashboard import newness
from digest import links, mailer
from digest.run import is_due
from operational import digests
from operational import tables as operational
from settings import load_settings

NOW = datetime(2026, 11, 30, 7, 0, 5)


@pytest.mark.parametrize(
    ("frequency", "last", "due"),
    [
        ("daily", None, True),
        ("daily", datetime(2026, 11, 29, 7, 0, 30), True),  # yesterday, a few seconds later in the day
        ("daily", datetime(2026, 11, 30, 0, 1), False),  # already today
        ("weekly", datetime(2026, 11, 23, 7, 0, 30), True),  # seven days ago
        ("weekly", datetime(2026, 11, 24, 6, 0), False),  # six days ago
        ("weekly", None, True),
        ("off", None, False),
        ("hourly", None, False),
    ],
)
def test_a_digest_is_due_by_calendar_day(frequency: str, last: datetime | None, due: bool) -> None:
    assert is_due(frequency, last, NOW) is due


@pytest.mark.parametrize("host", ["127.0.0.1", "localhost", "::1", "127.0.0.2"])
def test_tls_off_is_allowed_to_this_machine(host: str) -> None:
    settings = load_settings({"SMTP_HOST": host, "SMTP_TLS": "off", "MAIL_FROM": "a@example.nhs.uk"})
    mailer.check_settings(settings)
    assert settings.smtp_port == 25


@pytest.mark.parametrize("host", ["192.0.2.10", "mail.example.nhs.uk", "10.0.0.1", "no-such-host.invalid"])
def test_tls_off_to_any_other_host_is_refused(host: str) -> None:
    settings = load_settings({"SMTP_HOST": host, "SMTP_TLS": "off", "MAIL_FROM": "a@example.nhs.uk"})
    with pytest.raises(mailer.MailNotConfigured, match="not this machine"):
        mailer.Mailer(settings)


def test_each_tls_mode_has_its_usual_port_unless_smtp_port_says() -> None:
    assert load_settings({"SMTP_TLS": "ssl"}).smtp_port == 465
    assert load_settings({}).smtp_port == 587 and load_settings({}).smtp_tls == "starttls"
    assert load_settings({"SMTP_TLS": "ssl", "SMTP_PORT": "2465"}).smtp_port == 2465


@pytest.mark.parametrize(
    ("base", "ok"),
    [
        ("https://cdop.example.nhs.uk", True),
        ("https://cdop.example.nhs.uk/dashboard/", True),
        ("http://127.0.0.1:8050", True),
        ("cdop.example.nhs.uk", False),
        ("javascript:alert(1)", False),
        ("https://cdop.example.nhs.uk/?x=1", False),
        ("", False),
    ],
)
def test_public_url_must_be_an_http_address(base: str, ok: bool) -> None:
    settings = load_settings({"PUBLIC_URL": base})
    if ok:
        assert links.public_url(settings) == base.rstrip("/")
        assert links.settings_link(settings) == f"{base.rstrip('/')}/settings"
    else:
        with pytest.raises(links.NoPublicUrl):
            links.public_url(settings)


def test_a_token_carries_its_user_and_address_and_only_its_key_reads_it() -> None:
    token = links.make_token("key one", 7, "a@example.nhs.uk")
    assert links.read_token("key one", token) == links.Verification(7, "a@example.nhs.uk")
    for key, value in (("key two", token), ("key one", token + "x"), ("key one", None), ("key one", 12)):
        with pytest.raises(links.LinkProblem):
            links.read_token(key, value)


@pytest.fixture
def engine(tmp_path: Path) -> Engine:
    """An operational store of its own with user 1, subscribed daily (not yet confirmed)."""
    engine = operational.connect(f"sqlite:///{tmp_path / 'op.sqlite'}")
    with engine.begin() as db:
        db.execute(
            insert(operational.users).values(
                id=1, username="u1", password_hash="x", role="cdop", active=True, demo=False, created_at=NOW
            )
        )
    digests.subscribe(engine, 1, "u1@example.nhs.uk", "daily")
    return engine


def test_two_runs_never_hold_the_same_users_digest_and_a_dead_runs_claim_runs_out(engine: Engine) -> None:
    assert digests.claim(engine, 1, NOW)
    assert not digests.claim(engine, 1, NOW + timedelta(minutes=5))
    assert digests.claim(engine, 1, NOW + digests.STALE_CLAIM + timedelta(seconds=1))
    digests.release(engine, 1)
    assert digests.claim(engine, 1, NOW)


def test_a_new_address_must_be_confirmed_again_and_the_same_one_keeps_its_confirmation(engine: Engine) -> None:
    assert digests.verify(engine, 1, "u1@example.nhs.uk", NOW)
    assert digests.subscribe(engine, 1, "u1@example.nhs.uk", "weekly").verified
    assert not digests.subscribe(engine, 1, "u1.new@example.nhs.uk", "weekly").verified
    assert not digests.verify(engine, 1, "u1@example.nhs.uk", NOW)  # the old address's link is void


def test_the_whats_new_page_takes_a_digests_period_as_a_moment() -> None:
    since = newness.parse_since("2026-11-29T07:00:01.123456", date(2026, 11, 30))
    assert since.choice == "moment" and since.moment == datetime(2026, 11, 29, 7, 0, 1, 123456)
    assert since.param == "2026-11-29T07:00:01.123456"
    for bad in ("2026-11-29T25:00:00", "2126-11-29T07:00:00", "2026-11-29T07:00:00+05:00", "2026-11-29T07:00"):
        with pytest.raises(newness.BadSince):
            newness.parse_since(bad, date(2026, 11, 30))

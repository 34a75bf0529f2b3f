"""Changing a user's digest, from their settings page, the users page or the command line.

One function, so each place saves, audits and sends the verification link alike:
a new address is unverified (nothing but its link is sent to it) until the link
is followed; a saved change whose link could not be sent says why, in one line.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import Engine

from digest import verification
from digest.links import NoPublicUrl
from digest.mailer import MailNotConfigured, SendFailed
from operational import audit, digests
from operational.accounts import User
from operational.digests import DigestSettingsError, Subscription
from settings import Settings

# what a person chooses -> (frequency, weekly even when nothing is new)
CHOICES: dict[str, tuple[str, bool]] = {
    "off": ("off", False),
    "daily": ("daily", False),
    "weekly": ("weekly", False),
    "weekly-always": ("weekly", True),
}
CHOICE_LABELS = {
    "off": "Off: send me nothing",
    "daily": "Daily, when there is something new",
    "weekly": "Weekly, when there is something new",
    "weekly-always": "Weekly, even when nothing is new",
}


@dataclass(frozen=True)
class Saved:
    subscription: Subscription
    link_sent_to: str | None = None  # a verification link went to this address
    link_problem: str | None = None  # ... or could not be sent, and why (one line)

    def describe(self) -> str:
        sub = self.subscription
        text = f"Saved: {sub.describe()}."
        if self.link_sent_to:
            text += f" A link to confirm the address was sent to {self.link_sent_to}: follow it to start the digest."
        if self.link_problem:
            text += f" The link to confirm the address was not sent: {self.link_problem}."
        return text


def choice_of(sub: Subscription | None) -> str:
    if sub is None:
        return "off"
    return "weekly-always" if sub.frequency == "weekly" and sub.when_empty else sub.frequency


def save(
    settings: Settings,
    engine: Engine,
    key: str,
    user: User,
    email: object,
    choice: object,
    actor: str,
    remote_addr: str | None,
) -> Saved:
    """Set ``user``'s digest to ``email`` (blank: none) and ``choice`` (a key of CHOICES), from
    untrusted input; DigestSettingsError (one line) and nothing changed if either is unusable."""
    if not isinstance(choice, str) or choice not in CHOICES:
        raise DigestSettingsError("choose how often: off, daily, weekly, or weekly even when nothing is new")
    frequency, when_empty = CHOICES[choice]
    blank = email is None or (isinstance(email, str) and not email.strip())
    address = None if blank else digests.check_address(email)
    if address is None and frequency != "off":
        raise DigestSettingsError("give the e-mail address the digest should go to")
    before = digests.get(engine, user.id)
    sub = digests.subscribe(engine, user.id, address, frequency, when_empty)
    audit.record(
        engine,
        "digest_settings" if actor == user.username else "admin_action",
        actor,
        remote_addr,
        action="set digest",
        target=user.username,
        digest=sub.describe(),
    )
    if sub.email is None or sub.verified or (before is not None and before.email == sub.email):
        return Saved(sub)
    return _with_link(settings, engine, key, user, sub, actor, remote_addr)


def resend(settings: Settings, engine: Engine, key: str, user: User, actor: str, remote_addr: str | None) -> Saved:
    """Send the user's verification link again (DigestSettingsError if there is nothing to verify)."""
    sub = digests.get(engine, user.id)
    if sub is None or not sub.email:
        raise DigestSettingsError("there is no address to confirm: save one first")
    if sub.verified:
        raise DigestSettingsError(f"{sub.email} is already confirmed")
    return _with_link(settings, engine, key, user, sub, actor, remote_addr)


def _with_link(
    settings: Settings, engine: Engine, key: str, user: User, sub: Subscription, actor: str, remote_addr: str | None
) -> Saved:
    try:
        sent_to = verification.send_link(settings, engine, key, user, actor, remote_addr)
    except (MailNotConfigured, NoPublicUrl, SendFailed, verification.TooSoon, DigestSettingsError) as error:
        return Saved(sub, link_problem=str(error))
    return Saved(digests.get(engine, user.id) or sub, link_sent_to=sent_to)

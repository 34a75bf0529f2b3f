"""Sending the link that verifies a digest address, from the settings page, the users page or the command line.

Nothing else is ever sent to an address before its link has been followed.
Links to one user are spaced by ``RESEND_SECONDS``, so the settings page
cannot be used to flood a mailbox.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from sqlalchemy import Engine

from digest import links, message
from digest.mailer import Mailer
from operational import audit, digests
from operational.accounts import User
from settings import Settings

RESEND_SECONDS = 120


class TooSoon(RuntimeError):
    """A link was sent to this user moments ago."""


def send_link(settings: Settings, engine: Engine, key: str, user: User, actor: str, remote_addr: str | None) -> str:
    """Send the verification link for the user's current address; the address it went to.
    Raises digests.DigestSettingsError (no address, or already verified), TooSoon,
    mailer.MailNotConfigured, links.NoPublicUrl or mailer.SendFailed (each one line)."""
    sub = digests.get(engine, user.id)
    if sub is None or not sub.email:
        raise digests.DigestSettingsError("there is no address to verify")
    if sub.verified:
        raise digests.DigestSettingsError(f"{sub.email} is already verified")
    now = datetime.now(UTC).replace(tzinfo=None)
    if sub.link_sent_at is not None and now - sub.link_sent_at < timedelta(seconds=RESEND_SECONDS):
        raise TooSoon(f"a link was sent to {sub.email} moments ago: wait {RESEND_SECONDS // 60} minutes for it")
    mail = message.verification_message(
        settings.mail_from or "",
        sub.email,
        user.username,
        links.verify_link(settings, key, user.id, sub.email),
        links.LINK_HOURS,
        links.settings_link(settings),
    )
    with Mailer(settings) as mailer:
        mailer.send(mail)
    digests.link_sent(engine, user.id, now)
    audit.record(engine, "digest_link_sent", actor, remote_addr, target=user.username, to=sub.email)
    return sub.email

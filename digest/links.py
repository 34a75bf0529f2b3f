"""Addresses that mail points to, and the signed, expiring links that verify an address.

A link carries the user's id and the address, signed with the app's secret key
(``settings.secret_key``, shared by the web app and the command line); it
verifies that address for that user only, and only while it is still theirs.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from urllib.parse import urlencode, urlsplit

from itsdangerous import BadSignature, SignatureExpired, URLSafeTimedSerializer

from settings import Settings

SALT = "digest-address-verification"
LINK_HOURS = 72
VERIFY_PATH = "/settings/verify"
SETTINGS_PATH = "/settings"
WHATS_NEW_PATH = "/new"


class LinkProblem(ValueError):
    """A verification link that cannot be used (one line, for the page)."""


class NoPublicUrl(RuntimeError):
    """PUBLIC_URL is missing or not an http(s) address."""


@dataclass(frozen=True)
class Verification:
    user_id: int
    email: str


def public_url(settings: Settings) -> str:
    """The base address of the app as users reach it, for links in mail."""
    base = settings.public_url
    if not base:
        raise NoPublicUrl("PUBLIC_URL is not set: mail needs the address users open the app at (https://...)")
    parts = urlsplit(base)
    if parts.scheme not in ("http", "https") or not parts.netloc or parts.query or parts.fragment:
        raise NoPublicUrl(f"PUBLIC_URL must be an http(s) address with no query, not {base!r}")
    return base.rstrip("/")


def _serializer(key: str) -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(key, salt=SALT)


def make_token(key: str, user_id: int, email: str) -> str:
    return _serializer(key).dumps({"u": user_id, "e": email})


def read_token(key: str, token: object, max_hours: int = LINK_HOURS) -> Verification:
    """The user and address a link verifies; LinkProblem if it is forged, mangled or expired."""
    if not isinstance(token, str) or not token or len(token) > 1000:
        raise LinkProblem("This link is not complete: open it exactly as it is in the message.")
    try:
        data = _serializer(key).loads(token, max_age=max_hours * 3600)
    except SignatureExpired:
        raise LinkProblem(
            f"This link has expired (links last {max_hours} hours): ask for a new one on My settings."
        ) from None
    except BadSignature:
        raise LinkProblem("This link is not valid: open it exactly as it is in the message.") from None
    if not isinstance(data, dict) or not isinstance(data.get("u"), int) or not isinstance(data.get("e"), str):
        raise LinkProblem("This link is not valid: open it exactly as it is in the message.")
    return Verification(user_id=data["u"], email=data["e"])


def verify_link(settings: Settings, key: str, user_id: int, email: str) -> str:
    return f"{public_url(settings)}{VERIFY_PATH}?{urlencode({'token': make_token(key, user_id, email)})}"


def whats_new_link(settings: Settings, since: datetime) -> str:
    """The What's new page for the deaths that arrived after ``since`` (the digest's own period)."""
    return f"{public_url(settings)}{WHATS_NEW_PATH}?{urlencode({'since': since.isoformat()})}"


def settings_link(settings: Settings) -> str:
    return f"{public_url(settings)}{SETTINGS_PATH}"

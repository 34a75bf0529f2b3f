"""Where to send a person after sign-in: a path on this site, or the overview.

The ``next`` value comes from the address bar, so it is hostile until shown
otherwise. Browsers and URL parsers quietly drop tab, CR and LF and treat a
backslash as a slash, so a check of the raw string ("starts with one slash")
is not enough: ``/\\t/evil.example`` becomes ``//evil.example``, another site.
Instead the value must consist only of characters that may appear unescaped
in a URL path or query (RFC 3986), it is parsed, and the redirect is rebuilt
from its path and query alone: no scheme, no host, no fragment, and a path
that starts with exactly one slash.
"""

from __future__ import annotations

import re
from urllib.parse import urlsplit

HOME = "/"
MAX_LENGTH = 2_000
# RFC 3986 unreserved, sub-delims, ':', '@', '/', '?' and '%' (for escapes): printable
# ASCII without space, '"', '#', '<', '>', '\\', '^', '`', '{', '|', '}'.
_ALLOWED = re.compile(r"[A-Za-z0-9\-._~!$&'()*+,;=:@/?%]*")


def local_target(raw: object) -> str:
    """The same-origin path (with its query) that ``raw`` names, or ``HOME``."""
    if not isinstance(raw, str) or not raw or len(raw) > MAX_LENGTH or not _ALLOWED.fullmatch(raw):
        return HOME
    try:
        parts = urlsplit(raw)
    except ValueError:
        return HOME
    path = parts.path
    if parts.scheme or parts.netloc or not path.startswith("/") or path.startswith("//"):
        return HOME
    return f"{path}?{parts.query}" if parts.query else path

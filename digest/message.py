"""The digest and the verification message: plain text with an HTML alternative.

Counts only. A mailbox is forwarded, printed and kept for years, so nothing
about one death is ever in a message: no case reference, no date of birth or
death, no hospital (a hospital named beside a small count could point at one
child). The link leads to the What's new page, behind the sign-in.
"""

from __future__ import annotations

from email.message import EmailMessage
from email.utils import formatdate, make_msgid
from html import escape

from digest.counts import DigestCounts
from queries import whatsnew

APP_NAME = "Deaths by hospital trust"


def _deaths(n: int) -> str:
    return f"{n:,} new death{'' if n == 1 else 's'}" if n else "No new deaths"


def subject(counts: DigestCounts) -> str:
    return f"{APP_NAME}: {_deaths(counts.total)} in the hospitals of {counts.footprint}"


def _period(counts: DigestCounts) -> str:
    return f"after {counts.since:%d %B %Y, %H:%M} UTC"


def _sections(counts: DigestCounts) -> list[tuple[str, list[tuple[str, int]]]]:
    """(heading, [(line, count)]) in the order the message gives them, after the total."""
    labels = counts.flag_labels
    return [
        ("By who reviews them", [(title, counts.groups[code]) for code, title in whatsnew.GROUPS.items()]),
        ("Of these new deaths, needing attention", [(labels[f], n) for f, n in counts.flagged_new.items()]),
        (
            "Needing attention in your hospitals, whenever the deaths arrived",
            [(labels[f], n) for f, n in counts.flagged_all.items()],
        ),
    ]


FOOTER = (
    "This message holds counts only: no case details, dates or hospitals. The deaths themselves are on the "
    "What's new page, after you sign in."
)


def digest_text(counts: DigestCounts, whats_new: str, manage: str) -> str:
    lines = [
        f"{APP_NAME}: your digest for {counts.footprint}",
        "",
        f"{_deaths(counts.total)} in the hospitals of your footprint arrived in the data since your last digest "
        f"(loaded {_period(counts)}).",
    ]
    if counts.total:
        for heading, rows in _sections(counts)[:2]:
            lines += ["", f"{heading}:"] + [f"  {label}: {n:,}" for label, n in rows]
    heading, rows = _sections(counts)[2]
    lines += ["", f"{heading}:"] + [f"  {label}: {n:,}" for label, n in rows]
    lines += [
        "",
        "See them on the What's new page (the same period):",
        whats_new,
        "",
        FOOTER,
        f"Change how often you get this digest, or stop it: {manage}",
    ]
    return "\n".join(lines) + "\n"


def digest_html(counts: DigestCounts, whats_new: str, manage: str) -> str:
    e = escape
    parts = [
        f'<h1 style="font-size:1.2em">{e(APP_NAME)}: your digest for {e(counts.footprint)}</h1>',
        f"<p><strong>{e(_deaths(counts.total))}</strong> in the hospitals of your footprint arrived in the data "
        f"since your last digest (loaded {e(_period(counts))}).</p>",
    ]
    sections = _sections(counts) if counts.total else _sections(counts)[2:]
    for heading, rows in sections:
        body = "".join(
            f'<tr><th scope="row" style="text-align:left;font-weight:normal">{e(label)}</th>'
            f'<td style="text-align:right;padding-left:1em">{n:,}</td></tr>'
            for label, n in rows
        )
        parts.append(f'<table><caption style="text-align:left;font-weight:bold">{e(heading)}</caption>{body}</table>')
    parts += [
        f'<p><a href="{e(whats_new)}">See them on the What\'s new page</a> (the same period).</p>',
        f'<p style="color:#555">{e(FOOTER)} <a href="{e(manage)}">Change how often you get this digest, '
        "or stop it</a>.</p>",
    ]
    return f'<!DOCTYPE html><html lang="en"><body>{"".join(parts)}</body></html>'


def _envelope(sender: str, to: str, title: str, manage: str) -> EmailMessage:
    message = EmailMessage()
    message["Subject"] = title
    message["From"] = sender
    message["To"] = to
    message["Date"] = formatdate(localtime=False, usegmt=True)
    message["Message-ID"] = make_msgid(domain=sender.rsplit("@", 1)[-1].strip(">") or None)
    message["Auto-Submitted"] = "auto-generated"  # RFC 3834: no out-of-office replies
    message["List-Unsubscribe"] = f"<{manage}>"
    return message


def digest_message(counts: DigestCounts, sender: str, to: str, whats_new: str, manage: str) -> EmailMessage:
    message = _envelope(sender, to, subject(counts), manage)
    message.set_content(digest_text(counts, whats_new, manage))
    message.add_alternative(digest_html(counts, whats_new, manage), subtype="html")
    return message


def verification_message(sender: str, to: str, username: str, link: str, hours: int, manage: str) -> EmailMessage:
    title = f"{APP_NAME}: confirm your e-mail address for digests"
    text = (
        f"Someone (you, or an administrator for you) asked for {APP_NAME}'s e-mail digest for the account "
        f"{username} to be sent to this address.\n\nTo confirm, open this link and sign in (it lasts {hours} "
        f"hours):\n{link}\n\nIf you did not expect this, ignore it: nothing will be sent to this address.\n"
    )
    message = _envelope(sender, to, title, manage)
    message.set_content(text)
    message.add_alternative(
        '<!DOCTYPE html><html lang="en"><body>'
        f"<p>Someone (you, or an administrator for you) asked for {escape(APP_NAME)}'s e-mail digest for the account "
        f"<strong>{escape(username)}</strong> to be sent to this address.</p>"
        f'<p><a href="{escape(link)}">Confirm this address</a> (sign-in needed; the link lasts {hours} hours).</p>'
        "<p>If you did not expect this, ignore it: nothing will be sent to this address.</p></body></html>",
        subtype="html",
    )
    return message

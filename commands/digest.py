"""`digest send`: send every e-mail digest that is due; meant for cron or a systemd timer."""

from __future__ import annotations

import sys
from typing import TYPE_CHECKING

import click

from commands.common import fail, first_line
from settings import load_settings

if TYPE_CHECKING:
    from digest.run import Outcome


@click.group()
def digest() -> None:
    """The e-mail digest of what is new in each user's footprint."""


@digest.command("send")
@click.option("--dry-run", is_flag=True, help="print what would be sent; send nothing, move no mark")
@click.option("--user", "username", default=None, help="only this user's digest")
def digest_send(dry_run: bool, username: str | None) -> None:
    """Send every digest that is due (run it daily from cron or a systemd timer).

    Exit code 0: every due digest was sent (or none was due); 1: one or more
    failed (each on its own line; they are tried again on the next run); 2:
    nothing was tried (the settings or the stores are not usable)."""
    from digest import links, mailer, run
    from operational import accounts
    from operational import tables as operational
    from queries.deaths_store import DeathsStore
    from queries.store import StoreUnavailable

    settings = load_settings()
    try:
        links.public_url(settings)
        if not dry_run:
            mailer.check_settings(settings)
    except (links.NoPublicUrl, mailer.MailNotConfigured) as error:
        fail(f"{error}; nothing was sent")
    engine = operational.connect(settings.operational_url)
    if username is not None and accounts.get_user_by_name(engine, username) is None:
        fail(f"no user {username.strip().lower()!r}")
    store = DeathsStore(settings.store_path)
    try:
        conn = store.cursor()
        facts = store.facts()
    except StoreUnavailable as error:
        fail(f"{first_line(error)} (build or load a store first); nothing was sent")
    try:
        ctx = run.context(settings, engine, conn, facts.as_at)
        with mailer.Mailer(settings) if not dry_run else _NoMailer() as sending:
            report = run.send_due(
                ctx, None if dry_run else (lambda: sending), username.strip().lower() if username else None
            )
    finally:
        conn.close()
        store.close()
    for outcome in report.outcomes:
        if outcome.status == run.WOULD_SEND and outcome.message is not None:
            _print_message(outcome)
        elif outcome.status == run.FAILED:
            click.echo(
                f"{outcome.username}: failed: {outcome.detail} (its mark stays: the next run tries again)", err=True
            )
        else:
            click.echo(f"{outcome.username}: {outcome.status}" + (f" ({outcome.detail})" if outcome.detail else ""))
    sent = sum(o.status == run.SENT for o in report.outcomes)
    verb = "would send" if dry_run else "sent"
    count = sum(o.status == run.WOULD_SEND for o in report.outcomes) if dry_run else sent
    click.echo(f"{verb} {count} digest{'' if count == 1 else 's'}; {len(report.failed)} failed")
    sys.exit(report.exit_code)


class _NoMailer:
    """A dry run's stand-in for the mailer's context (nothing is ever sent through it)."""

    def __enter__(self) -> None:
        return None

    def __exit__(self, *_exc: object) -> None:
        return None


def _print_message(outcome: Outcome) -> None:
    mail = outcome.message
    assert mail is not None
    click.echo(f"--- {outcome.username}: would send to {mail['To']}")
    click.echo(f"Subject: {mail['Subject']}")
    click.echo("")
    click.echo(mail.get_body(("plain",)).get_content().rstrip("\n"))
    click.echo("---")

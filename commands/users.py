"""`users`: manage the users of a real deployment and their CDOP grants."""

from __future__ import annotations

import sys
from typing import Any

import click

from commands.common import fail, mapping_context
from settings import load_settings

FREQUENCIES = ("off", "daily", "weekly")  # operational.digests.FREQUENCIES (not imported before a command runs)


@click.group()
def users() -> None:
    """Manage users of a real deployment (demo users are made automatically)."""


def _accounts() -> Any:
    from operational import accounts
    from operational import tables as operational

    settings = load_settings()
    settings.data_dir.mkdir(parents=True, exist_ok=True)
    return accounts, operational.connect(settings.operational_url)


def _known_cdop(code: str) -> str:
    """A CDOP code in the managed mapping (a CDOP formed by a merger included),
    or in data/reference/cdops.csv while there is no deaths store yet."""
    from ingest.reference import read_reference
    from settings import REFERENCE_DIR

    code = code.strip().upper()
    settings = load_settings()
    if settings.store_path.exists():
        _engine, conn, current, _today = mapping_context()
        conn.close()
        known, where = current.codes(), "the footprint mapping (python app.py mapping show)"
    else:
        known, where = set(read_reference(REFERENCE_DIR).cdops["cdop_code"]), "data/reference/cdops.csv"
    if code not in known:
        fail(f"no CDOP {code!r} in {where}")
    return code


def _password(password_stdin: bool) -> str:
    if password_stdin:
        return sys.stdin.readline().rstrip("\n")
    return click.prompt("Password", hide_input=True, confirmation_prompt=True)


def _describe(user: Any) -> str:
    state = "active" if user.active else "disabled"
    holds = ", ".join(user.cdop_codes) or "all England"
    return f"{user.username}\t{user.role}\t{holds}\t{state}{chr(9) + 'demo' if user.demo else ''}"


@users.command("add")
@click.argument("username")
@click.option("--role", type=click.Choice(["cdop", "admin"]), default="cdop", show_default=True)
@click.option("--cdop", "cdops", multiple=True, help="a CDOP code the user may see (repeat for several)")
@click.option("--password-stdin", is_flag=True, help="read the password from standard input")
@click.option("--email", default=None, help="their address for the e-mail digest (a link to verify it is sent)")
@click.option("--every", type=click.Choice(FREQUENCIES), default="off", show_default=True, help="digest frequency")
def users_add(
    username: str, role: str, cdops: tuple[str, ...], password_stdin: bool, email: str | None, every: str
) -> None:
    """Add a user (asks for a password of at least 12 characters)."""
    accounts, engine = _accounts()
    codes = [_known_cdop(c) for c in cdops]
    address = _address(email) if email is not None else None
    if address is None and every != "off":
        fail("--every needs --email: the address the digest goes to")
    try:
        user = accounts.add_user(engine, username, _password(password_stdin), role, codes)
    except accounts.AccountError as error:
        fail(str(error))
    _audit_admin(engine, "added", user)
    click.echo(f"added {_describe(user)}")
    if address is not None or every != "off":
        _set_digest(engine, user, address, every, when_empty=False)


def _address(raw: str) -> str:
    from operational import digests

    try:
        return digests.check_address(raw)
    except digests.DigestSettingsError as error:
        fail(str(error))


@users.command("set-digest")
@click.argument("username")
@click.option("--email", default=None, help="the address digests go to (a new one must be verified by its link)")
@click.option("--every", type=click.Choice(FREQUENCIES), default=None, help="how often (off stops the digest)")
@click.option("--even-when-empty", is_flag=True, help="weekly: send even when nothing is new")
@click.option("--resend-link", is_flag=True, help="send the verification link again")
def users_set_digest(
    username: str, email: str | None, every: str | None, even_when_empty: bool, resend_link: bool
) -> None:
    """Set a user's e-mail digest: address and frequency (a new address gets a verification link)."""
    from operational import digests

    accounts, engine = _accounts()
    user = accounts.get_user_by_name(engine, username)
    if user is None:
        fail(f"no user {username.strip().lower()!r}")
    current = digests.get(engine, user.id)
    address = _address(email) if email is not None else (current.email if current else None)
    frequency = every or (current.frequency if current else "off")
    if even_when_empty and frequency != "weekly":
        fail("--even-when-empty goes with --every weekly")
    when_empty = even_when_empty or (every is None and current is not None and current.when_empty)
    _set_digest(engine, user, address, frequency, when_empty, resend=resend_link)


def _set_digest(
    engine: Any, user: Any, address: str | None, frequency: str, when_empty: bool, resend: bool = False
) -> None:
    """Save the digest settings (audited), sending a verification link to a new or unconfirmed address."""
    import getpass

    from digest import subscribe
    from operational.digests import DigestSettingsError

    choice = "weekly-always" if frequency == "weekly" and when_empty else frequency
    actor = f"cli:{getpass.getuser()}"
    try:
        saved = subscribe.save(load_settings(), engine, _signing_key(), user, address, choice, actor, None)
        if resend and not saved.link_sent_to and not saved.link_problem:
            saved = subscribe.resend(load_settings(), engine, _signing_key(), user, actor, None)
    except DigestSettingsError as error:
        fail(str(error))
    click.echo(f"{user.username}: digest {saved.subscription.describe()}")
    if saved.link_sent_to:
        click.echo(f"sent a link to confirm {saved.link_sent_to}: nothing else is sent there until it is followed")
    if saved.link_problem:
        click.echo(
            f"warning: the link to confirm the address was not sent: {saved.link_problem}; send it again with "
            f"`python app.py users set-digest {user.username} --resend-link`",
            err=True,
        )
        sys.exit(3)


def _signing_key() -> str:
    from settings import secret_key

    return secret_key(load_settings())


@users.command("list")
def users_list() -> None:
    """List users: name, role, CDOPs, state."""
    accounts, engine = _accounts()
    for user in accounts.list_users(engine):
        click.echo(_describe(user))


@users.command("disable")
@click.argument("username")
def users_disable(username: str) -> None:
    """Disable a user and end their sessions."""
    _change(lambda a, e: a.set_active(e, username, False), "disabled")


@users.command("enable")
@click.argument("username")
def users_enable(username: str) -> None:
    """Enable a disabled user."""
    _change(lambda a, e: a.set_active(e, username, True), "enabled")


@users.command("grant")
@click.argument("username")
@click.argument("cdop")
def users_grant(username: str, cdop: str) -> None:
    """Let a user see one more CDOP's footprint."""
    code = _known_cdop(cdop)
    _change(lambda a, e: a.grant(e, username, code), f"granted {code} to")


@users.command("revoke")
@click.argument("username")
@click.argument("cdop")
def users_revoke(username: str, cdop: str) -> None:
    """Take a CDOP's footprint away from a user (ends their sessions)."""
    code = cdop.strip().upper()
    _change(lambda a, e: a.revoke(e, username, code), f"revoked {code} from")


@users.command("passwd")
@click.argument("username")
@click.option("--password-stdin", is_flag=True, help="read the password from standard input")
def users_passwd(username: str, password_stdin: bool) -> None:
    """Set a user's password (ends their sessions)."""
    password = _password(password_stdin)
    _change(lambda a, e: a.set_password(e, username, password), "set the password of")


def _change(action: Any, verb: str) -> None:
    accounts, engine = _accounts()
    try:
        user = action(accounts, engine)
    except accounts.AccountError as error:
        fail(str(error))
    _audit_admin(engine, verb, user)
    click.echo(f"{verb} {_describe(user)}")


def _audit_admin(engine: Any, verb: str, user: Any) -> None:
    """Account changes made at the command line are admin actions: audit them,
    naming the operating-system account that made them."""
    import getpass

    from operational import audit

    audit.record(
        engine,
        "admin_action",
        f"cli:{getpass.getuser()}",
        None,
        action=verb,
        target=user.username,
        role=user.role,
        cdops=list(user.cdop_codes),
        active=user.active,
    )

"""`users`: manage the users of a real deployment and their CDOP grants."""

from __future__ import annotations

import sys
from typing import Any

import click

from commands.common import fail, mapping_context
from settings import load_settings


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
def users_add(username: str, role: str, cdops: tuple[str, ...], password_stdin: bool) -> None:
    """Add a user (asks for a password of at least 12 characters)."""
    accounts, engine = _accounts()
    codes = [_known_cdop(c) for c in cdops]
    try:
        user = accounts.add_user(engine, username, _password(password_stdin), role, codes)
    except accounts.AccountError as error:
        fail(str(error))
    _audit_admin(engine, "added", user)
    click.echo(f"added {_describe(user)}")


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

"""Deaths by hospital trust: the entry point.

    python app.py                      run the dashboard (builds a demo store on first run)
    python app.py load PATH            load an NCMD-style extract (CSV or XLSX)
    python app.py demo [--scale K]     build a synthetic demo store
    python app.py users ...            add, list, disable, grant or revoke users
    python app.py mapping ...          show, schedule or import changes to the trust-to-CDOP mapping
    python app.py reference import-ods refresh trusts and sites from NHS ODS etr.csv / ets.csv
    python app.py --help               everything else

``app:server`` is the WSGI application for gunicorn.
"""

from __future__ import annotations

import ipaddress
import sys
import time
from pathlib import Path
from typing import Any

import click

from settings import load_settings


def _fail(message: str, code: int = 2) -> None:
    click.echo(f"error: {message}", err=True)
    sys.exit(code)


@click.group(invoke_without_command=True, context_settings={"help_option_names": ["-h", "--help"]})
@click.pass_context
def cli(ctx: click.Context) -> None:
    """Deaths by hospital trust: a dashboard for Child Death Overview Panels."""
    if ctx.invoked_subcommand is None:
        ctx.invoke(run)


@cli.command()
@click.option("--host", default=None, help="address to listen on (default: HOST or 127.0.0.1)")
@click.option("--port", type=int, default=None, help="port to listen on (default: PORT or 8050)")
def run(host: str | None, port: int | None) -> None:
    """Serve the dashboard, building a synthetic demo store if there is none."""
    settings = load_settings()
    if not settings.store_path.exists():
        click.echo(
            f"No deaths store at {settings.store_path}: building a demo store of SYNTHETIC deaths "
            "(not real children; load a real extract with `python app.py load PATH`).",
            err=True,
        )
        _build_demo(settings, seed=None, scale=1.0, replace=False)
    elif _outdated_demo(settings.store_path):
        click.echo("The demo store was built by an older version of this app: building it again.", err=True)
        _build_demo(settings, seed=None, scale=1.0, replace=False)
    from dashboard.app import create_app
    from dashboard.auth import demo_mode

    dash_app = create_app(settings)
    bind = host or settings.host
    if demo_mode(dash_app.server.extensions["cdop"]) and not is_loopback(bind):
        _fail(
            f"the synthetic demo only listens on this machine (127.0.0.1), not on {bind!r}; "
            "load real data and set SECRET_KEY to serve others"
        )
    from dashboard.auth.headers import BannerlessRequestHandler
    from dashboard.runtime import tune_worker

    tune_worker()
    dash_app.run(
        host=bind,
        port=port or settings.port,
        debug=False,
        dev_tools_ui=False,
        dev_tools_hot_reload=False,
        request_handler=BannerlessRequestHandler,
    )


def _outdated_demo(store: Path) -> bool:
    """A synthetic store in an older format (it is safe to rebuild; real data is never touched)."""
    from queries.report import data_facts
    from queries.store import StoreOutdated, StoreUnavailable, open_readonly

    try:
        conn = open_readonly(store)
    except StoreUnavailable:
        return False
    try:
        data_facts(conn)
        return False
    except StoreOutdated:
        synthetic = conn.execute("SELECT bool_and(starts_with(case_id, 'SYN-')) FROM deaths").fetchall()[0][0]
        return bool(synthetic)
    finally:
        conn.close()


def is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


@cli.command()
@click.argument("path", type=click.Path(path_type=Path))
@click.option("--replace", is_flag=True, help="start a new store instead of updating the current one")
def load(path: Path, replace: bool) -> None:
    """Load an extract: exit 0 all rows loaded, 3 some rows rejected, 2 nothing loaded."""
    from ingest.extract import ExtractUnusable
    from ingest.loader import load_file
    from queries.store import StoreBusy

    settings = load_settings()
    try:
        summary = load_file(path, settings, replace=replace, progress=True, managed_cdops=_managed_cdops(settings))
    except (ExtractUnusable, StoreBusy) as error:
        _fail(f"{error} (nothing was changed)")
    except KeyboardInterrupt:
        _fail("interrupted (nothing was changed)", 130)
    except Exception as error:  # noqa: BLE001 - a one-line message instead of a traceback
        _fail(f"the load failed ({type(error).__name__}: {_first_line(error)}); nothing was changed")
    _audit_load(settings, summary)
    click.echo(summary.describe())
    sys.exit(summary.exit_code)


def _managed_cdops(settings: Any) -> tuple[Any, ...]:
    """The CDOPs of the mapping administrators manage, if it has been seeded (the
    extract may name a CDOP formed by a merger as the reviewer)."""
    from dashboard import mapping_store, operational

    if not settings.data_dir.exists():
        return ()
    engine = operational.connect(settings.operational_url)
    if mapping_store.latest_revision(engine) is None:
        return ()
    return mapping_store.load(engine).cdops


def _audit_load(settings: Any, summary: Any) -> None:
    """Who ran each load (the deaths store records what, not who): shown on the admin's loads page."""
    import getpass

    from dashboard import audit, operational

    audit.record(
        operational.connect(settings.operational_url),
        "admin_action",
        f"cli:{getpass.getuser()}",
        None,
        action="load",
        load_id=summary.load_id,
        file=summary.source_name,
        rows_read=summary.rows_read,
        rows_rejected=summary.rows_rejected,
    )


@cli.command()
@click.option("--seed", type=int, default=None, help="random seed (the same seed gives the same data)")
@click.option(
    "--scale",
    type=click.FloatRange(min=0.001, max=1000),
    default=1.0,
    show_default=True,
    help="multiple of the national volume (about 3,500 deaths a year)",
)
@click.option(
    "--write-extract",
    "extract_path",
    type=click.Path(path_type=Path),
    default=None,
    help="write the synthetic deaths as an extract CSV instead of loading them",
)
@click.option("--replace", is_flag=True, help="overwrite a store that holds real deaths")
def demo(seed: int | None, scale: float, extract_path: Path | None, replace: bool) -> None:
    """Generate synthetic deaths for England, April 2019 to March 2026."""
    settings = load_settings()
    if extract_path is not None:
        from ingest.demo import DEFAULT_SEED, write_extract

        rows = write_extract(extract_path, seed if seed is not None else DEFAULT_SEED, scale)
        click.echo(f"wrote {rows:,} synthetic deaths to {extract_path}")
        return
    _build_demo(settings, seed=seed, scale=scale, replace=replace)


def _build_demo(settings: Any, *, seed: int | None, scale: float, replace: bool) -> None:
    from ingest.demo import DEFAULT_SEED, build_demo_store
    from ingest.extract import ExtractUnusable
    from queries.store import StoreBusy

    started = time.perf_counter()
    try:
        summary = build_demo_store(settings, seed=DEFAULT_SEED if seed is None else seed, scale=scale, replace=replace)
    except (ExtractUnusable, StoreBusy) as error:
        _fail(str(error))
    except KeyboardInterrupt:
        _fail("interrupted (nothing was changed)", 130)
    click.echo(
        f"built a demo store of {summary.rows_new:,} SYNTHETIC deaths at {settings.store_path} "
        f"in {time.perf_counter() - started:.1f} s",
        err=True,
    )


@cli.group()
def users() -> None:
    """Manage users of a real deployment (demo users are made automatically)."""


def _accounts() -> Any:
    from dashboard import accounts, operational

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
        _engine, conn, current, _today = _mapping_context()
        conn.close()
        known, where = current.codes(), "the footprint mapping (python app.py mapping show)"
    else:
        known, where = set(read_reference(REFERENCE_DIR).cdops["cdop_code"]), "data/reference/cdops.csv"
    if code not in known:
        _fail(f"no CDOP {code!r} in {where}")
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
        _fail(str(error))
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
        _fail(str(error))
    _audit_admin(engine, verb, user)
    click.echo(f"{verb} {_describe(user)}")


def _audit_admin(engine: Any, verb: str, user: Any) -> None:
    """Account changes made at the command line are admin actions: audit them,
    naming the operating-system account that made them."""
    import getpass

    from dashboard import audit

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


@cli.group()
def mapping() -> None:
    """Show, schedule and import changes to the trust-to-CDOP mapping.

    Each change is previewed; add --apply (and --reason) to make it. The
    running app follows a change on its next request: no restart."""


def _mapping_context() -> tuple[Any, Any, Any, Any]:
    """(operational engine, deaths store cursor, mapping in force, today)."""
    from datetime import date

    from dashboard import mapping_store, operational
    from queries.store import StoreUnavailable, open_readonly

    settings = load_settings()
    settings.data_dir.mkdir(parents=True, exist_ok=True)
    engine = operational.connect(settings.operational_url)
    try:
        conn = open_readonly(settings.store_path)
    except StoreUnavailable as error:
        _fail(f"{error} (build or load a store first)")
    return engine, conn, mapping_store.MappingSource(engine).current(conn), settings.fixed_today or date.today()


@mapping.command("show")
@click.option("--date", "day", default=None, help="the day to show (YYYY-MM-DD; default today)")
def mapping_show(day: str | None) -> None:
    """The mapping in force on a day: each CDOP and the trusts in its footprint."""
    from dashboard.mapping_admin import parse_day
    from dashboard.mapping_changes import MappingError

    _engine, conn, current, today = _mapping_context()
    try:
        when = parse_day(day) if day else today
    except MappingError as error:
        _fail(str(error))
    click.echo(f"mapping version {current.version}, in force on {when:%Y-%m-%d}")
    for cdop in current.in_force(when):
        click.echo(f"{cdop.code}\t{cdop.name}\t{' '.join(current.trusts_of((cdop.code,), when)) or '-'}")
    conn.close()


@mapping.command("history")
@click.option("--trust", default=None, help="one trust's rows")
@click.option("--cdop", default=None, help="one CDOP's rows and periods")
def mapping_history(trust: str | None, cdop: str | None) -> None:
    """Every footprint row ever recorded (retired ones too), with the revisions
    that added and retired it; with neither option, the list of revisions."""
    from dashboard import mapping_store

    engine, conn, _current, _today = _mapping_context()
    conn.close()
    if not trust and not cdop:
        for rev in mapping_store.revisions(engine):
            when = rev["effective_from"].isoformat() if rev["effective_from"] else "-"
            click.echo(
                f"{rev['id']}\t{rev['at']:%Y-%m-%d %H:%M}\t{rev['username']}\t{rev['kind']}\t{when}\t{rev['reason']}"
            )
        return
    if cdop:
        for row in mapping_store.cdop_history(engine, cdop.strip().upper()):
            click.echo(
                f"cdop {row['cdop_code']}\t{row['cdop_name']}\t{row['valid_from']}\t{row['valid_to'] or '-'}"
                f"\tsuccessor {row['successor_code'] or '-'}\t{_revision_note(row)}"
            )
    for row in mapping_store.footprint_history(
        engine, trust.strip().upper() if trust else None, cdop.strip().upper() if cdop else None
    ):
        click.echo(
            f"{row['trust_code']}\t{row['cdop_code']}\t{row['valid_from']}\t{row['valid_to'] or '-'}"
            f"\t{_revision_note(row)}"
        )


def _revision_note(row: Any) -> str:
    retired = f", retired by revision {row['retired_by']}" if row["retired_by"] else ""
    return f"added by revision {row['added_by']}{retired}"


def _propose_and_maybe_apply(kind: str, asked: dict[str, Any], apply: bool, reason: str | None) -> None:
    import getpass

    from dashboard import mapping_admin
    from dashboard.mapping_changes import MappingError, MappingInvalid
    from dashboard.mapping_store import MappingConflict

    engine, conn, current, today = _mapping_context()
    try:
        if kind == "import":
            path = Path(asked["file"])
            if not path.is_file():
                _fail(f"no file {path}")
            proposal = mapping_admin.propose_upload(conn, engine, current, path.read_bytes(), path.name, today)
        else:
            proposal = mapping_admin.propose(conn, engine, current, kind, asked, today)
    except (MappingError, MappingInvalid) as error:
        problems = mapping_admin.problems_of(error)
        if len(problems) == 1:  # one problem, one line
            _fail(f"{problems[0]} (nothing was changed)")
        for line in problems:
            click.echo(f"error: {line}", err=True)
        _fail("nothing was changed")
    finally:
        conn.close()
    for line in mapping_admin.describe(proposal):
        click.echo(line)
    if not apply:
        click.echo("(preview only: add --apply --reason '...' to make this change)")
        return
    try:
        applied = mapping_admin.commit(engine, proposal, f"cli:{getpass.getuser()}", None, reason)
    except (MappingError, MappingConflict) as error:
        _fail(f"{error} (nothing was changed)")
    click.echo(f"applied as revision {applied.revision}: {applied.retired} rows retired, {applied.added} added")


_APPLY = click.option("--apply", is_flag=True, help="make the change (otherwise only preview it)")
_REASON = click.option("--reason", default=None, help="why (required with --apply; kept with the change)")
_DATE = click.option("--date", "day", required=True, help="effective date, YYYY-MM-DD (today or later)")


@mapping.command("move")
@click.argument("trust")
@click.option("--to", "to_cdop", required=True, help="the CDOP whose footprint the trust joins")
@click.option("--from", "from_cdop", default=None, help="the CDOP it leaves (omit to add it, staying in others)")
@_DATE
@_APPLY
@_REASON
def mapping_move(trust: str, to_cdop: str, from_cdop: str | None, day: str, apply: bool, reason: str | None) -> None:
    """A trust moves to (or joins) another CDOP's footprint on a date."""
    _propose_and_maybe_apply("move", {"trust": trust, "to": to_cdop, "from": from_cdop, "date": day}, apply, reason)


@mapping.command("merge")
@click.argument("cdops", nargs=-1, required=True)
@click.option("--code", required=True, help="the new CDOP's code")
@click.option("--name", required=True, help="the new CDOP's name")
@_DATE
@_APPLY
@_REASON
def mapping_merge(cdops: tuple[str, ...], code: str, name: str, day: str, apply: bool, reason: str | None) -> None:
    """Two or more CDOPs merge into a new one on a date."""
    _propose_and_maybe_apply("merge", {"cdops": list(cdops), "code": code, "name": name, "date": day}, apply, reason)


@mapping.command("rename")
@click.argument("cdop")
@click.option("--name", required=True, help="the new name")
@_DATE
@_APPLY
@_REASON
def mapping_rename(cdop: str, name: str, day: str, apply: bool, reason: str | None) -> None:
    """A CDOP takes a new name on a date (same code, same footprint)."""
    _propose_and_maybe_apply("rename", {"cdop": cdop, "name": name, "date": day}, apply, reason)


@mapping.command("import")
@click.argument("path", type=click.Path(path_type=Path))
@_APPLY
@_REASON
def mapping_import(path: Path, apply: bool, reason: str | None) -> None:
    """Replace the footprints with a mapping CSV (footprint.csv format): every row
    checked, all or nothing."""
    _propose_and_maybe_apply("import", {"file": str(path)}, apply, reason)


@cli.group()
def reference() -> None:
    """Refresh the reference data (trusts and sites) from NHS ODS files."""


@reference.command("import-ods")
@click.option("--trusts", "trusts_path", type=click.Path(path_type=Path), required=True, help="ODS etr.csv")
@click.option("--sites", "sites_path", type=click.Path(path_type=Path), required=True, help="ODS ets.csv")
@click.option("--apply", is_flag=True, help="write the refresh into the deaths store (otherwise only show it)")
def reference_import_ods(trusts_path: Path, sites_path: Path, apply: bool) -> None:
    """Show what ODS's etr.csv and ets.csv change (new, renamed, closed) and the
    trusts with inpatient sites no CDOP covers; --apply writes it (this command is
    the store's one writer: the web app only previews)."""
    import getpass

    from dashboard import audit
    from ingest import ods
    from queries.store import StoreBusy

    engine, conn, current, today = _mapping_context()
    try:
        for path in (trusts_path, sites_path):
            if not path.is_file():
                _fail(f"no file {path} (nothing was changed)")
        trusts = ods.read_ods(trusts_path.read_bytes(), "trusts")
        sites = ods.read_ods(sites_path.read_bytes(), "sites")
        found = ods.diff(conn, trusts, sites, current, today)
    except ods.OdsUnusable as error:
        _fail(f"{error} (nothing was changed)")
    finally:
        conn.close()
    for line in found.lines():
        click.echo(line)
    if not apply:
        click.echo("(preview only: add --apply to write it into the deaths store)")
        return
    try:
        folder = ods.apply(load_settings(), trusts, sites)
    except StoreBusy as error:
        _fail(f"{error} (nothing was changed)")
    audit.record(
        engine,
        "admin_action",
        f"cli:{getpass.getuser()}",
        None,
        action="reference import-ods",
        trusts_file=trusts_path.name,
        sites_file=sites_path.name,
        new_trusts=len(found.new_trusts),
        renamed_trusts=len(found.renamed_trusts),
        new_sites=len(found.new_sites),
        uncovered=[code for code, _, _ in found.uncovered],
    )
    click.echo(f"applied: the deaths store now holds the refreshed trusts and sites (kept in {folder})")


def _first_line(error: BaseException) -> str:
    text = str(error).strip()
    return text.splitlines()[0][:200] if text else "no detail"


def __getattr__(name: str) -> Any:
    """``app:server`` for gunicorn, built on first use (never at import: no
    store connection may be opened before gunicorn forks its workers)."""
    if name == "server":
        from dashboard.app import create_app

        return create_app(load_settings()).server
    raise AttributeError(name)


if __name__ == "__main__":
    cli()

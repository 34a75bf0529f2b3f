"""`mapping`: show, schedule and import changes to the trust-to-CDOP mapping."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import click

from commands.common import fail, mapping_context


@click.group()
def mapping() -> None:
    """Show, schedule and import changes to the trust-to-CDOP mapping.

    Each change is previewed; add --apply (and --reason) to make it. The
    running app follows a change on its next request: no restart."""


@mapping.command("show")
@click.option("--date", "day", default=None, help="the day to show (YYYY-MM-DD; default today)")
def mapping_show(day: str | None) -> None:
    """The mapping in force on a day: each CDOP and the trusts in its footprint."""
    from footprints.changes import MappingError
    from footprints.proposals import parse_day

    _engine, conn, current, today = mapping_context()
    try:
        when = parse_day(day) if day else today
    except MappingError as error:
        fail(str(error))
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
    from footprints import store as mapping_store

    engine, conn, _current, _today = mapping_context()
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

    from footprints import proposals as mapping_admin
    from footprints.changes import MappingError, MappingInvalid
    from footprints.store import MappingConflict

    engine, conn, current, today = mapping_context()
    try:
        if kind == "import":
            path = Path(asked["file"])
            if not path.is_file():
                fail(f"no file {path}")
            proposal = mapping_admin.propose_upload(conn, engine, current, path.read_bytes(), path.name, today)
        else:
            proposal = mapping_admin.propose(conn, engine, current, kind, asked, today)
    except (MappingError, MappingInvalid) as error:
        problems = mapping_admin.problems_of(error)
        if len(problems) == 1:  # one problem, one line
            fail(f"{problems[0]} (nothing was changed)")
        for line in problems:
            click.echo(f"error: {line}", err=True)
        fail("nothing was changed")
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
        fail(f"{error} (nothing was changed)")
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

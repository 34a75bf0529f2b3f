"""`operational`: move the operational store to another database, and write its next migration."""

from __future__ import annotations

import click

from commands.common import fail, first_line
from settings import database_url, load_settings


@click.group("operational")
def operational_store() -> None:
    """The operational store (users, sessions, audit log, mapping history): copy it, migrate it."""


@operational_store.command("copy")
@click.option("--to", "to", required=True, help="the new store's URL, e.g. postgresql://USER:PASSWORD@HOST/NAME")
def copy(to: str) -> None:
    """Copy every table of the store in use (OPERATIONAL_DB_URL, else the SQLite file in DATA_DIR)
    into an empty database, checking every table's count. Stop the app first."""
    from sqlalchemy.exc import SQLAlchemyError

    from operational import copying
    from operational import tables as operational
    from operational.database import display_url

    settings = load_settings()
    try:
        target_url = database_url(to, "--to")
    except SystemExit as refused:
        fail(str(refused))
    if not target_url:
        fail("--to needs the URL of the new store")
    if target_url == settings.operational_url:
        fail("--to names the store in use: give the URL of a new, empty one")
    try:
        source = operational.connect(settings.operational_url)
    except SQLAlchemyError as error:
        fail(f"cannot open the store in use: {first_line(error)}")
    try:
        target = operational.connect(target_url)
    except SQLAlchemyError as error:
        fail(f"cannot open the target store: {first_line(error)}")
    try:
        counts = copying.copy_store(source, target)
    except copying.CopyRefused as refused:
        fail(str(refused))
    except SQLAlchemyError as error:
        fail(f"the copy failed, nothing was kept: {first_line(error)}")
    for table, count in counts.items():
        click.echo(f"{table}\t{count}")
    click.echo(
        f"copied {sum(counts.values())} rows in {len(counts)} tables to {display_url(target_url)}; "
        "serve from it with OPERATIONAL_DB_URL set to that URL"
    )


@operational_store.command("new-migration")
@click.argument("message")
def new_migration(message: str) -> None:
    """Write the migration that brings the store to what operational/tables.py says now
    (after adding a table there), into operational/migrations/versions: read it before committing."""
    from operational import schema
    from operational.tables import metadata

    try:
        written = schema.write_migration(message, metadata)
    except schema.NothingToMigrate as nothing:
        fail(str(nothing))
    click.echo(f"wrote {written}")

"""`reference import-ods`: refresh trusts and sites from NHS ODS files."""

from __future__ import annotations

from pathlib import Path

import click

from commands.common import fail, mapping_context
from settings import load_settings


@click.group()
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

    from ingest import ods
    from operational import audit
    from queries.store import StoreBusy

    engine, conn, current, today = mapping_context()
    try:
        for path in (trusts_path, sites_path):
            if not path.is_file():
                fail(f"no file {path} (nothing was changed)")
        trusts = ods.read_ods(trusts_path.read_bytes(), "trusts")
        sites = ods.read_ods(sites_path.read_bytes(), "sites")
        found = ods.diff(conn, trusts, sites, current, today)
    except ods.OdsUnusable as error:
        fail(f"{error} (nothing was changed)")
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
        fail(f"{error} (nothing was changed)")
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

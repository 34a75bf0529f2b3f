"""Deaths by hospital trust: the entry point.

    python app.py                      serve the dashboard with gunicorn (builds a demo store on first run)
    python app.py --dev                the same with Flask's development server and its reloader
    python app.py load PATH            load an NCMD-style extract (CSV or XLSX)
    python app.py demo [--scale K]     build a synthetic demo store
    python app.py users ...            add, list, disable, grant or revoke users; set their e-mail digest
    python app.py mapping ...          show, schedule or import changes to the trust-to-CDOP mapping
    python app.py reference import-ods refresh trusts and sites from NHS ODS etr.csv / ets.csv
    python app.py digest send          send the e-mail digests that are due (for cron or a systemd timer)
    python app.py operational copy --to URL   move the operational store (e.g. to PostgreSQL)
    python app.py backup DIR / restore DIR    both stores, with a manifest of counts and checksums
    python app.py --help               everything else

This file only assembles the command line: each group lives in ``commands/``.
``app:server`` is the WSGI application for gunicorn.
"""

from __future__ import annotations

from typing import Any

import click

from commands.backup import backup, restore
from commands.data import demo, load
from commands.digest import digest
from commands.mapping import mapping
from commands.operational_store import operational_store
from commands.reference import reference
from commands.serve import run, serve_options
from commands.users import users
from settings import load_settings


@click.group(invoke_without_command=True, context_settings={"help_option_names": ["-h", "--help"]})
@serve_options
@click.pass_context
def cli(ctx: click.Context, host: str | None, port: int | None, dev: bool) -> None:
    """Deaths by hospital trust: a dashboard for Child Death Overview Panels.

    Without a command it serves the dashboard (as `run` does).
    """
    if ctx.invoked_subcommand is None:
        ctx.invoke(run, host=host, port=port, dev=dev)
    elif host is not None or port is not None or dev:
        raise click.UsageError("--host, --port and --dev serve the dashboard: give them alone or after `run`")


for command in (run, load, demo, users, mapping, reference, digest, operational_store, backup, restore):
    cli.add_command(command)


def __getattr__(name: str) -> Any:
    """``app:server`` for gunicorn, built on first use (never at import: no
    store connection may be opened before gunicorn forks its workers)."""
    if name == "server":
        from dashboard.app import create_app

        return create_app(load_settings()).server
    raise AttributeError(name)


if __name__ == "__main__":
    cli()

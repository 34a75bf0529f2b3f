"""Deaths by hospital trust: the entry point.

    python app.py                      run the dashboard (builds a demo store on first run)
    python app.py load PATH            load an NCMD-style extract (CSV or XLSX)
    python app.py demo [--scale K]     build a synthetic demo store
    python app.py --help               everything else

``app:server`` is the WSGI application for gunicorn.
"""

from __future__ import annotations

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
    from dashboard.app import create_app

    dash_app = create_app(settings)
    dash_app.run(host=host or settings.host, port=port or settings.port, debug=False)


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
        summary = load_file(path, settings, replace=replace, progress=True)
    except (ExtractUnusable, StoreBusy) as error:
        _fail(f"{error} (nothing was changed)")
    except KeyboardInterrupt:
        _fail("interrupted (nothing was changed)", 130)
    except Exception as error:  # noqa: BLE001 - a one-line message instead of a traceback
        _fail(f"the load failed ({type(error).__name__}: {_first_line(error)}); nothing was changed")
    click.echo(summary.describe())
    sys.exit(summary.exit_code)


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

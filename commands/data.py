"""`load` and `demo`: the deaths store's writers, run from the command line."""

from __future__ import annotations

import sys
import time
from pathlib import Path
from typing import Any

import click

from commands.common import fail, first_line
from settings import load_settings


@click.command()
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
        fail(f"{error} (nothing was changed)")
    except KeyboardInterrupt:
        fail("interrupted (nothing was changed)", 130)
    except Exception as error:  # noqa: BLE001 - a one-line message instead of a traceback
        fail(f"the load failed ({type(error).__name__}: {first_line(error)}); nothing was changed")
    _audit_load(settings, summary)
    click.echo(summary.describe())
    sys.exit(summary.exit_code)


def _managed_cdops(settings: Any) -> tuple[Any, ...]:
    """The CDOPs of the mapping administrators manage, if it has been seeded (the
    extract may name a CDOP formed by a merger as the reviewer)."""
    from footprints import store as mapping_store
    from operational import tables as operational

    if not settings.data_dir.exists():
        return ()
    engine = operational.connect(settings.operational_url)
    if mapping_store.latest_revision(engine) is None:
        return ()
    return mapping_store.load(engine).cdops


def _audit_load(settings: Any, summary: Any) -> None:
    """Who ran each load (the deaths store records what, not who): shown on the admin's loads page."""
    import getpass

    from operational import audit
    from operational import tables as operational

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


@click.command()
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
    build_demo(settings, seed=seed, scale=scale, replace=replace)


def build_demo(settings: Any, *, seed: int | None, scale: float, replace: bool) -> None:
    from ingest.demo import DEFAULT_SEED, build_demo_store
    from ingest.extract import ExtractUnusable
    from queries.store import StoreBusy

    started = time.perf_counter()
    try:
        summary = build_demo_store(settings, seed=DEFAULT_SEED if seed is None else seed, scale=scale, replace=replace)
    except (ExtractUnusable, StoreBusy) as error:
        fail(str(error))
    except KeyboardInterrupt:
        fail("interrupted (nothing was changed)", 130)
    click.echo(
        f"built a demo store of {summary.rows_new:,} SYNTHETIC deaths at {settings.store_path} "
        f"in {time.perf_counter() - started:.1f} s",
        err=True,
    )

"""What several commands share: a one-line failure, and the mapping in force."""

from __future__ import annotations

import sys
from typing import Any, NoReturn

import click

from settings import load_settings


def fail(message: str, code: int = 2) -> NoReturn:
    click.echo(f"error: {message}", err=True)
    sys.exit(code)


def first_line(error: BaseException) -> str:
    text = str(error).strip()
    return text.splitlines()[0][:200] if text else "no detail"


def mapping_context() -> tuple[Any, Any, Any, Any]:
    """(operational engine, deaths store cursor, mapping in force, today)."""
    from datetime import date

    from footprints import store as mapping_store
    from operational import tables as operational
    from queries.store import StoreUnavailable, open_readonly

    settings = load_settings()
    settings.data_dir.mkdir(parents=True, exist_ok=True)
    engine = operational.connect(settings.operational_url)
    try:
        conn = open_readonly(settings.store_path)
    except StoreUnavailable as error:
        fail(f"{error} (build or load a store first)")
    return engine, conn, mapping_store.MappingSource(engine).current(conn), settings.fixed_today or date.today()

"""`python app.py operational`: moving the store to PostgreSQL (every row, counts checked, never
into a store that holds rows), and writing the next migration."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from alembic import command
from sqlalchemy import Column, Integer, MetaData, String, Table, create_engine, inspect

from operational import audit, schema
from operational import tables as operational
from queries.store import open_readonly
from scripts.throwaway_postgres import ThrowawayPostgres
from settings import Settings
from tests.conftest import settings_for
from tests.operational.filled import contents, fill

PROJECT = Path(__file__).resolve().parents[2]


def run_app(settings: Settings, *args: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "DATA_DIR": str(settings.data_dir)}
    env.pop("OPERATIONAL_DB_URL", None)
    command_line = [sys.executable, "app.py", *args]
    return subprocess.run(command_line, cwd=PROJECT, env=env, capture_output=True, text=True, timeout=300, check=False)


@pytest.fixture
def sqlite_store(tmp_path: Path, demo_settings: Settings) -> Settings:
    """A deployment on the default SQLite store, with a row in every table."""
    settings = settings_for(tmp_path / "instance")
    settings.data_dir.mkdir(parents=True)
    deaths = open_readonly(demo_settings.store_path)
    fill(operational.connect(settings.operational_url), deaths)
    deaths.close()
    return settings


def test_copy_moves_every_row_to_postgresql_and_the_copy_carries_on(
    sqlite_store: Settings, postgres: ThrowawayPostgres
) -> None:
    target = postgres.url(postgres.create_database())
    result = run_app(sqlite_store, "operational", "copy", "--to", target)
    assert result.returncode == 0, result.stderr
    assert postgres.password not in result.stdout + result.stderr  # the URL is shown with its password hidden
    source, copied = operational.connect(sqlite_store.operational_url), operational.connect(target)
    before = contents(source)
    assert contents(copied) == before and all(before.values())  # every table holds rows, all copied
    assert f"audit_log\t{len(before['audit_log'])}" in result.stdout
    audit.record(copied, "login", "llr.nurse")  # new ids follow the copied ones
    assert max(row[0] for row in contents(copied)["audit_log"]) == len(before["audit_log"]) + 1

    again = run_app(sqlite_store, "operational", "copy", "--to", target)
    assert again.returncode == 2 and again.stderr.count("\n") == 1
    assert again.stderr.startswith("error: the target store is not empty (")
    copied.dispose()


@pytest.mark.parametrize(
    ("to", "says"),
    [
        ("mysql://u:secret@h/d", "--to must be a sqlite:///PATH or postgresql://"),
        ("postgresql://nobody:secret@127.0.0.1:9/none", "cannot open the target store"),
    ],
)
def test_a_bad_target_gets_one_line(sqlite_store: Settings, to: str, says: str) -> None:
    result = run_app(sqlite_store, "operational", "copy", "--to", to)
    assert result.returncode == 2 and result.stderr.count("\n") == 1, result.stderr
    assert result.stderr.startswith(f"error: {says}") and "secret" not in result.stderr


def test_a_new_table_gets_its_migration_written_and_then_nothing_is_left_to_write(tmp_path: Path) -> None:
    folder = tmp_path / "migrations"
    shutil.copytree(schema.MIGRATIONS, folder, ignore=shutil.ignore_patterns("__pycache__"))
    extended = MetaData()
    for table in operational.metadata.tables.values():
        table.to_metadata(extended)
    Table("panel_notes", extended, Column("id", Integer, primary_key=True), Column("name", String(80)))
    written = schema.write_migration("add panel notes", extended, folder)
    assert written.name == f"{int(schema.head()) + 1:04d}_add_panel_notes.py"
    assert "op.create_table('panel_notes'" in written.read_text().replace('"', "'")
    with pytest.raises(schema.NothingToMigrate):
        schema.write_migration("again", extended, folder)
    # the written migration makes the table
    engine = create_engine(f"sqlite:///{tmp_path / 'check.sqlite'}")
    with engine.connect() as db:
        cfg = schema.config(db)
        cfg.set_main_option("script_location", str(folder))
        cfg.attributes["metadata"] = extended
        command.upgrade(cfg, "head")
        db.commit()
    assert "panel_notes" in inspect(engine).get_table_names()
    with pytest.raises(schema.NothingToMigrate):
        schema.write_migration("nothing new", operational.metadata)

"""The operational store's tables come from its migrations: their end state is the tables of
``operational.tables`` (a table added without a migration fails here), an older store made by
``create_all`` is taken over with its rows, and processes starting together do not race."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import create_engine, func, insert, inspect, select

from operational import schema
from operational import tables as operational
from settings import load_settings
from tests.conftest import OPERATIONAL_STORES

PROJECT = Path(__file__).resolve().parents[2]
BEFORE_MIGRATIONS = {
    "users", "user_cdops", "sessions", "visit_marks", "audit_log", "password_changes_due",
    "mapping_revisions", "mapping_cdops", "mapping_footprint", "rate_limits",
}  # fmt: skip


@pytest.fixture(params=OPERATIONAL_STORES)
def empty_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """A store with nothing in it, not even a migration."""
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'operational.sqlite'}"
    server = request.getfixturevalue("postgres")
    name = server.create_database()
    request.addfinalizer(lambda: server.drop_database(name))
    return server.url(name)


def test_the_migrations_end_where_the_tables_say(empty_url: str) -> None:
    engine = operational.connect(empty_url)
    with engine.connect() as db:
        assert schema.current(db) == schema.head()
        context = MigrationContext.configure(db, opts={"compare_type": True})
        differences = compare_metadata(context, operational.metadata)
    assert differences == [], "operational/tables.py and the migrations disagree: add a migration (README)"
    engine.dispose()


def test_a_table_without_its_migration_is_found(empty_url: str) -> None:
    """The check above is no formality: a table only in the metadata shows as a difference."""
    from sqlalchemy import Column, Integer, MetaData, Table

    engine = operational.connect(empty_url)
    extended = MetaData()
    for table in operational.metadata.tables.values():
        table.to_metadata(extended)
    Table("forgotten_table", extended, Column("id", Integer, primary_key=True))
    with engine.connect() as db:
        differences = compare_metadata(MigrationContext.configure(db), extended)
    assert [(kind, table.name) for kind, table in differences] == [("add_table", "forgotten_table")]
    engine.dispose()


def test_a_store_made_before_migrations_keeps_its_rows_and_gets_its_missing_tables(empty_url: str) -> None:
    legacy = create_engine(empty_url)
    # the tables of the last start-up before migrations (the first migration's), but one
    older = [table for table in operational.metadata.sorted_tables if table.name in BEFORE_MIGRATIONS - {"rate_limits"}]
    operational.metadata.create_all(legacy, tables=older)  # as start-up did before migrations
    with legacy.begin() as db:
        db.execute(
            insert(operational.audit_log).values(
                at=func.now(), username="kept", event="login", detail={"a": 1}, remote_addr="192.0.2.1"
            )
        )
    legacy.dispose()
    engine = operational.connect(empty_url)
    with engine.connect() as db:
        assert schema.current(db) == schema.head()
        assert db.execute(select(operational.audit_log.c.username)).scalars().all() == ["kept"]
    assert "rate_limits" in inspect(engine).get_table_names()
    engine.dispose()


def test_workers_starting_together_on_an_empty_store_all_start(empty_url: str) -> None:
    script = (
        "import sys; from operational import tables; from operational.schema import current, head\n"
        "engine = tables.connect(sys.argv[1])\n"
        "with engine.connect() as db: assert current(db) == head()\n"
    )
    workers = [
        subprocess.Popen([sys.executable, "-c", script, empty_url], cwd=PROJECT, stderr=subprocess.PIPE, text=True)
        for _ in range(4)
    ]
    results = [(worker.wait(timeout=120), worker.stderr.read()) for worker in workers]  # type: ignore[union-attr]
    assert [code for code, _ in results] == [0, 0, 0, 0], [err[-500:] for _, err in results]
    engine = create_engine(empty_url)
    with engine.connect() as db:
        assert db.exec_driver_sql("SELECT count(*) FROM alembic_version").scalar() == 1
    engine.dispose()


def test_the_setting_defaults_to_the_sqlite_file_and_takes_a_postgresql_url(tmp_path: Path) -> None:
    default = load_settings({"DATA_DIR": str(tmp_path)})
    assert default.operational_url == f"sqlite:///{tmp_path.resolve() / 'operational.sqlite'}"
    chosen = load_settings(
        {"DATA_DIR": str(tmp_path), "OPERATIONAL_DB_URL": "postgresql://app:pw@db.internal:5432/cdop"}
    )
    assert chosen.operational_url == "postgresql+psycopg://app:pw@db.internal:5432/cdop"
    assert load_settings({"OPERATIONAL_DB_URL": "postgres://a@h/d"}).operational_url == "postgresql+psycopg://a@h/d"


@pytest.mark.parametrize("url", ["mysql://u:secret@h/d", "secret-word", "oracle+cx://u:secret@h/d"])
def test_a_url_of_another_kind_is_refused_in_one_line_without_its_password(url: str) -> None:
    with pytest.raises(SystemExit) as stopped:
        load_settings({"OPERATIONAL_DB_URL": url})
    message = str(stopped.value)
    assert message.startswith("OPERATIONAL_DB_URL must be") and "\n" not in message and "secret" not in message

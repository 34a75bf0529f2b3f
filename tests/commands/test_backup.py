"""`python app.py backup DIR` and `restore DIR`: both stores copied while the app serves, with a
manifest; a backup put back holds every user, grant, audit entry, mapping revision, visit mark and
death as they were; a partial, damaged or mismatched backup is refused in one line."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import threading
from pathlib import Path

import pytest
from sqlalchemy import delete

from ingest.demo import build_demo_store
from operational import accounts
from operational import tables as operational
from queries.store import open_readonly, row_counts
from scripts.throwaway_postgres import ThrowawayPostgres
from settings import Settings
from tests.conftest import make_app, settings_for, signed_in
from tests.operational.filled import contents, fill

PROJECT = Path(__file__).resolve().parents[2]


def run_app(settings: Settings, *args: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "DATA_DIR": str(settings.data_dir), "OPERATIONAL_DB_URL": settings.operational_url}
    command_line = [sys.executable, "app.py", *args]
    return subprocess.run(command_line, cwd=PROJECT, env=env, capture_output=True, text=True, timeout=300, check=False)


@pytest.fixture
def deployment(own_settings: Settings) -> Settings:
    """The demo store and an operational store (of each kind) with a row in every table."""
    deaths = open_readonly(own_settings.store_path)
    fill(operational.connect(own_settings.operational_url), deaths)
    deaths.close()
    return own_settings


def test_a_backup_taken_while_serving_restores_both_stores_as_they_were(deployment: Settings, tmp_path: Path) -> None:
    app = make_app(deployment)
    engine = app.server.extensions["cdop"].engine
    before = contents(engine)
    original_deaths = deployment.store_path.read_bytes()
    reader = signed_in(app, "llr")
    serving = threading.Event()
    serving.set()

    def browse() -> None:  # the app serves meanwhile: every page view writes an audit row
        while serving.is_set():
            assert reader.get("/_dash-layout").status_code == 200

    browsing = threading.Thread(target=browse)
    browsing.start()
    try:
        made = run_app(deployment, "backup", str(tmp_path / "backup"))
    finally:
        serving.clear()
        browsing.join()
    assert made.returncode == 0, made.stderr
    served = contents(engine)
    manifest = json.loads((tmp_path / "backup" / "manifest.json").read_text())
    assert manifest["operational_store"]["kind"] == engine.dialect.name
    assert manifest["operational_store"]["rows"]["users"] == len(served["users"])
    assert manifest["deaths_store"]["rows"] == row_counts(deployment.store_path)

    # everything changes after the backup: users, grants, marks, the audit log, the deaths store
    accounts.add_user(engine, "after.backup", "a long enough password", "admin")
    accounts.revoke(engine, "llr.nurse", "NHAM")
    with engine.begin() as db:
        db.execute(delete(operational.visit_marks))
        db.execute(delete(operational.audit_log))
    other = settings_for(tmp_path / "other")
    build_demo_store(other, seed=99, scale=0.02, progress=False)
    shutil.copyfile(other.store_path, deployment.store_path)

    restored = run_app(deployment, "restore", str(tmp_path / "backup"))
    assert restored.returncode == 0, restored.stderr
    back = contents(engine)
    for table, rows in before.items():
        if table == "audit_log":  # the page views written while the backup was taken: some of them, in order
            assert rows == back[table][: len(rows)] and back[table] == served[table][: len(back[table])]
        elif table != "sessions":  # sessions' last-seen moved while serving
            assert back[table] == rows, table
    assert [row[0] for row in back["sessions"]] == [row[0] for row in served["sessions"]]
    assert deployment.store_path.read_bytes() == original_deaths


@pytest.mark.parametrize("operational_url", ["sqlite"], indirect=True)
def test_a_partial_damaged_or_mismatched_backup_is_refused_in_one_line(
    deployment: Settings, tmp_path: Path, postgres: ThrowawayPostgres
) -> None:
    folder = tmp_path / "backup"
    assert run_app(deployment, "backup", str(folder)).returncode == 0
    again = run_app(deployment, "backup", str(folder))
    assert again.returncode == 2 and again.stderr == f"error: {folder} is not empty: back up into a new folder\n"

    def refused(broken: Path, says: str, settings: Settings = deployment) -> None:
        result = run_app(settings, "restore", str(broken))
        assert result.returncode == 2 and result.stderr.count("\n") == 1, result.stderr
        assert result.stderr.startswith(f"error: {says}"), result.stderr

    def variant(name: str) -> Path:
        copy = tmp_path / name
        shutil.copytree(folder, copy)
        return copy

    partial = variant("partial")
    (partial / "manifest.json").unlink()
    refused(partial, f"{partial} holds no manifest.json: not a backup, or one cut short")
    missing = variant("missing")
    (missing / "operational.sqlite").unlink()
    refused(missing, "the backup is incomplete: operational.sqlite is missing")
    damaged = variant("damaged")
    with (damaged / "deaths.duckdb").open("r+b") as handle:
        handle.seek(5000)
        byte = handle.read(1)
        handle.seek(5000)
        handle.write(bytes([byte[0] ^ 0xFF]))
    refused(damaged, "the backup is damaged: deaths.duckdb does not match its checksum")
    garbled = variant("garbled")
    (garbled / "manifest.json").write_text("{not json")
    refused(garbled, "manifest.json cannot be read")
    on_postgresql = Settings(**{**deployment.__dict__, "operational_db_url": postgres.url(postgres.create_database())})
    refused(folder, "the restore failed: this backup holds a sqlite operational store", on_postgresql)
    assert accounts.get_user_by_name(operational.connect(deployment.operational_url), "llr.nurse") is not None

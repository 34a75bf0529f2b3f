"""The data loads page: each load with who ran it and the rows it rejected."""

from __future__ import annotations

import json
from dataclasses import replace
from pathlib import Path

from operational import accounts, audit
from tests.commands.test_cli import run_app
from tests.conftest import make_app, post_login, settings_for
from tests.dash_client import DashClient
from tests.extract_rows import row, write_csv

PASSWORD = "a long admin passphrase"


def test_loads_show_who_when_counts_and_rejected_rows(tmp_path: Path) -> None:
    data = tmp_path / "instance"
    first = run_app(data, "load", str(write_csv(tmp_path / "first.csv", [row("A"), row("B", sex="?")])))
    assert first.returncode == 3, first.stderr
    second = run_app(data, "load", str(write_csv(tmp_path / "second.csv", [row("A"), row("C")])))
    assert second.returncode == 0, second.stderr
    settings = replace(settings_for(data), secret_key="k" * 64)  # real data: no demo users, a key is required
    app = make_app(settings)
    engine = app.server.extensions["cdop"].engine
    accounts.add_user(engine, "ncmd.admin", PASSWORD, "admin")
    accounts.add_user(engine, "llr.manager", PASSWORD, "cdop", ["LLR"])
    client = app.server.test_client()
    assert post_login(client, "ncmd.admin", PASSWORD).status_code == 302
    admin = DashClient(client)

    shown = admin.outputs("loads-table.children", {"loads-table.id": "loads-table"})
    listing = json.dumps(shown["loads-table.children"])
    assert "first.csv" in listing and "second.csv" in listing and "cli:" in listing
    assert [o["value"] for o in shown["loads-choice.options"]] == [2, 1] and shown["loads-choice.value"] == 2
    rejected = json.dumps(admin.outputs("loads-rejected.children", {"loads-choice.value": 1}))
    assert "Load 1 rejected 1 rows" in rejected and "sex" in rejected and '"3"' in rejected
    assert "rejected no rows" in json.dumps(admin.outputs("loads-rejected.children", {"loads-choice.value": 2}))
    assert "Choose a load" in json.dumps(admin.outputs("loads-rejected.children", {"loads-choice.value": "1; DROP"}))

    manager = app.server.test_client()
    assert post_login(manager, "llr.manager", PASSWORD).status_code == 302
    forged = DashClient(manager)
    assert forged.call("loads-rejected.children", {"loads-choice.value": 1}).status_code == 204
    assert forged.call("loads-table.children", {"loads-table.id": "loads-table"}).status_code == 204
    refusals = [e for e in audit.recent(engine, event="forbidden") if e["username"] == "llr.manager"]
    assert {r["detail"]["page"] for r in refusals} == {"/admin/loads"} and len(refusals) == 2

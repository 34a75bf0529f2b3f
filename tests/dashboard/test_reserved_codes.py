"""Issue 13, item 4: a CDOP coded ENGLAND (or any word the app gives a meaning)
must never widen what its users see, and no entry point may make one.

The attack: a merger names its new CDOP ``ENGLAND``; its users' footprint choice
then equalled the all-England value, and they saw all England.
"""

from __future__ import annotations

import base64
import csv
import io
import json
import shutil
from dataclasses import replace
from datetime import date
from pathlib import Path

import duckdb
import pytest
from sqlalchemy import Engine, update

from dashboard.context import ALL_MINE, ENGLAND, footprint_choices, scope_for
from dashboard.ui import ids
from footprints import changes as mapping_changes
from footprints import csv_format as mapping_csv
from footprints import store as mapping_store
from footprints.changes import MappingError, MappingInvalid
from ingest.reference import read_reference
from operational import accounts
from operational import tables as operational
from operational.accounts import AccountError, User
from operational.tables import user_cdops
from queries import report
from queries.codes import RESERVED_WORDS, cdop_code_problem
from queries.filters import Filters
from queries.mapping import Mapping
from queries.scope import cdop_scope
from queries.store import open_readonly
from settings import REFERENCE_DIR, Settings
from tests.commands.test_cli import run_app
from tests.conftest import make_app, settings_for, signed_in
from tests.dash_client import OVERVIEW, DashClient
from tests.dash_client import tiles as headline

RESERVED = sorted(RESERVED_WORDS)
LATER = "2099-04-01"  # a merger's date the calendar never reaches while the suite runs
PASSWORD = "a long enough passphrase"  # a test user's


def recode(mapping: Mapping, old: str, new: str) -> Mapping:
    """``mapping`` with one CDOP code replaced everywhere: how a store written
    before the code rule (or by hand) could hold a CDOP coded like a sentinel."""
    cdops = tuple(
        replace(
            c,
            code=new if c.code == old else c.code,
            successor=new if c.successor == old else c.successor,
            row_id=None,
        )
        for c in mapping.cdops
    )
    footprint = tuple(
        replace(r, cdop_code=new if r.cdop_code == old else r.cdop_code, row_id=None) for r in mapping.footprint
    )
    return replace(mapping, cdops=cdops, footprint=footprint)


def merged_into(mapping: Mapping, code: str, day: date) -> Mapping:
    """LLR and NHAM merged on ``day`` into a CDOP coded ``code``, written past the checks."""
    merged = mapping_changes.merge_cdops(mapping, ["LLR", "NHAM"], "EMCD", "East Midlands CDOP", day, day)
    return recode(merged, "EMCD", code)


def cdop_user(*codes: str) -> User:
    return User(id=999, username="eve", role="cdop", active=True, demo=False, cdop_codes=codes)


ADMIN = User(id=998, username="boss", role="admin", active=True, demo=False, cdop_codes=())


@pytest.fixture
def managed(operational_url: str, conn: duckdb.DuckDBPyConnection) -> Mapping:
    engine = operational.connect(operational_url)
    return mapping_store.MappingSource(engine).current(conn)


# --- the rule itself ---------------------------------------------------------


@pytest.mark.parametrize("word", [*RESERVED, *(w.lower() for w in RESERVED), "England", " all "])
def test_every_reserved_word_in_any_case_is_refused_as_a_cdop_code(word: str) -> None:
    problem = cdop_code_problem(word)
    assert problem is not None and "reserves" in problem and "\n" not in problem


def test_the_chooser_values_can_never_be_cdop_codes() -> None:
    for value in (ENGLAND, ALL_MINE):
        assert cdop_code_problem(value) is not None
        assert cdop_code_problem(value.upper()) is not None  # upper-casing cannot make one either
    for code in read_reference(REFERENCE_DIR).cdops["cdop_code"]:
        assert cdop_code_problem(code) is None, code  # every real code passes


# --- every entry point refuses every reserved word ------------------------------


@pytest.mark.parametrize("word", RESERVED)
def test_a_merger_cannot_take_a_reserved_code(managed: Mapping, word: str) -> None:
    for given in (word, word.lower()):
        with pytest.raises(MappingError, match=f"{word} is a word the app reserves") as caught:
            mapping_changes.merge_cdops(managed, ["LLR", "NHAM"], given, "X CDOP", date(2099, 4, 1), date.today())
        assert "\n" not in str(caught.value)


@pytest.mark.parametrize("word", RESERVED)
def test_the_checks_refuse_a_new_reserved_code_however_it_was_made(
    conn: duckdb.DuckDBPyConnection, managed: Mapping, word: str
) -> None:
    with pytest.raises(MappingInvalid, match=f"{word} is a word the app reserves"):
        mapping_changes.check(managed, merged_into(managed, word, date.today()), mapping_changes.reference(conn))


@pytest.mark.parametrize("word", RESERVED)
def test_a_mapping_csv_naming_a_reserved_code_is_refused_row_by_row(word: str) -> None:
    data = f"trust_code,cdop_code,valid_from,valid_to\nRWE,LLR,2019-04-01,\nRBS,{word.lower()},2019-04-01,\n"
    with pytest.raises(MappingInvalid) as caught:
        mapping_csv.read_footprint_csv(data.encode())
    assert caught.value.problems == [
        f"row 3: {word} is a word the app reserves ({RESERVED_WORDS[word]}), not a CDOP code"
    ]


@pytest.mark.parametrize("word", RESERVED)
def test_a_reserved_code_cannot_be_granted(operational_url: str, word: str) -> None:
    engine = operational.connect(operational_url)
    with pytest.raises(AccountError, match="reserves"):
        accounts.add_user(engine, "eve", PASSWORD, "cdop", [word])
    accounts.add_user(engine, "eve", PASSWORD, "cdop", ["LLR"])
    with pytest.raises(AccountError, match="reserves"):
        accounts.grant(engine, "eve", word)
    assert accounts.get_user_by_name(engine, "eve").cdop_codes == ("LLR",)


def test_reference_data_naming_a_reserved_code_is_refused(tmp_path: Path) -> None:
    folder = tmp_path / "reference"
    shutil.copytree(REFERENCE_DIR, folder)
    cdops = folder / "cdops.csv"
    cdops.write_text(cdops.read_text().replace("\nLLR,", "\nENGLAND,", 1))
    with pytest.raises(ValueError, match="ENGLAND is a word the app reserves"):
        read_reference(folder)


@pytest.fixture(scope="module")
def admin_app(tmp_path_factory: pytest.TempPathFactory, demo_settings: Settings):
    settings = settings_for(tmp_path_factory.mktemp("reserved") / "instance")
    settings.data_dir.mkdir(parents=True)
    shutil.copyfile(demo_settings.store_path, settings.store_path)
    return make_app(settings)


@pytest.fixture(scope="module")
def admin(admin_app) -> DashClient:
    return DashClient(signed_in(admin_app, "admin", "admin-demo"))


@pytest.mark.parametrize("word", RESERVED)
def test_the_mapping_page_refuses_a_reserved_code_for_a_merger_and_an_upload(admin_app, admin, word: str) -> None:
    from dashboard.views.admin_mapping import FIELDS, _fingerprint

    merge = {
        "map-kind.value": "merge",
        "map-cdops.value": "LLR, NHAM",
        "map-code.value": word.lower(),
        "map-name.value": "East Midlands CDOP",
        "map-date.value": LATER,
    }
    shown = admin.outputs(
        "map-preview.children", {**merge, "map-preview-button.n_clicks": 1}, changed=["map-preview-button.n_clicks"]
    )
    assert f"Nothing was changed: {word} is a word the app reserves" in json.dumps(shown)
    assert shown["map-previewed.data"] is None
    # an apply forged past the preview is refused the same way
    form = (merge["map-kind.value"], *(merge.get(f"{f}.value") for f in FIELDS))
    forged = {"source": "form", "version": "m1", "asked": _fingerprint("form", form, (None,))}
    forced = admin.outputs(
        "map-result.children",
        {**merge, "map-apply.n_clicks": 1, "map-reason.value": "forcing it", "map-previewed.data": forged},
        changed=["map-apply.n_clicks"],
    )
    assert f"{word} is a word the app reserves" in json.dumps(forced)
    upload = f"trust_code,cdop_code,valid_from,valid_to\nRWE,{word},2019-04-01,\n".encode()
    contents = "data:text/csv;base64," + base64.b64encode(upload).decode()
    uploaded = admin.outputs(
        "map-preview.children",
        {"map-upload.contents": contents, "map-upload.filename": "x.csv"},
        changed=["map-upload.contents"],
    )
    assert f"row 2: {word} is a word the app reserves" in json.dumps(uploaded)
    assert mapping_store.latest_revision(admin_app.server.extensions["cdop"].engine) == 1


@pytest.fixture(scope="module")
def cli_data(tmp_path_factory: pytest.TempPathFactory, demo_settings: Settings) -> Path:
    folder = tmp_path_factory.mktemp("reserved-cli") / "instance"
    folder.mkdir()
    shutil.copyfile(demo_settings.store_path, folder / "deaths.duckdb")
    return folder


@pytest.mark.parametrize("word", RESERVED)
def test_the_command_line_refuses_a_reserved_code_in_one_line(cli_data: Path, word: str) -> None:
    upload = cli_data.parent / f"{word}.csv"
    upload.write_text(f"trust_code,cdop_code,valid_from,valid_to\nRWE,{word},2019-04-01,\n")
    merge = ("mapping", "merge", "LLR", "NHAM", "--code", word, "--name", "East Midlands CDOP", "--date", LATER)
    for args in (
        (*merge, "--apply", "--reason", "testing the rule"),
        ("mapping", "import", str(upload), "--apply", "--reason", "testing the rule"),
    ):
        result = run_app(cli_data, *args)
        assert result.returncode == 2, (args, result.stdout, result.stderr)
        assert "Traceback" not in result.stderr
        lines = result.stderr.strip().splitlines()
        assert len(lines) == 1 and f"{word} is a word the app reserves" in lines[0], lines
        assert "nothing was changed" in lines[0]
    assert run_app(cli_data, "mapping", "history").stdout.count("\n") == 1  # only the seed


# --- the attack: a CDOP that already holds a reserved code ------------------------


def test_users_of_a_cdop_coded_england_see_only_its_footprint(
    conn: duckdb.DuckDBPyConnection, managed: Mapping
) -> None:
    """Fails on the code before the fix: the user's only choice, ENGLAND, was the all-England value."""
    day = date.today()
    mapping = merged_into(managed, "ENGLAND", day)
    own = cdop_scope(conn, ["ENGLAND"], day, mapping)
    assert set(own.trust_codes) == set(cdop_scope(conn, ["LLR", "NHAM"], day, managed).trust_codes)
    eve = cdop_user("ENGLAND")
    for requested in (None, "ENGLAND", ENGLAND, "ALL", ALL_MINE, "england"):
        scope, chosen = scope_for(eve, requested, conn, day, mapping)
        assert not scope.england and scope.trust_codes == own.trust_codes, requested
        assert chosen == "ENGLAND"
    # still so for a user who also holds another CDOP and asks for all of theirs
    both = cdop_user("ENGLAND", "NCL")
    scope, chosen = scope_for(both, ALL_MINE, conn, day, mapping)
    assert chosen == ALL_MINE and not scope.england
    assert set(scope.trust_codes) == set(own.trust_codes) | set(cdop_scope(conn, ["NCL"], day, mapping).trust_codes)


def test_all_england_is_for_administrators_only_whatever_the_string(
    conn: duckdb.DuckDBPyConnection, managed: Mapping
) -> None:
    """A CDOP coded like the new chooser value itself (a store written by hand) gives its users that CDOP only."""
    day = date.today()
    mapping = merged_into(managed, ENGLAND, day)
    scope, chosen = scope_for(cdop_user(ENGLAND), ENGLAND, conn, day, mapping)
    assert chosen == ENGLAND and not scope.england
    assert scope.trust_codes == cdop_scope(conn, [ENGLAND], day, mapping).trust_codes


def test_an_administrators_old_bookmark_still_gives_all_england(
    conn: duckdb.DuckDBPyConnection, managed: Mapping
) -> None:
    day = date.today()
    assert footprint_choices(ADMIN, conn, day, managed)[0].value == ENGLAND
    for requested in (None, "ENGLAND", ENGLAND, "ALL"):
        scope, chosen = scope_for(ADMIN, requested, conn, day, managed)
        assert scope.england and chosen == ENGLAND, requested
    # with a CDOP coded ENGLAND in the store, the word names that CDOP, for an admin too
    mapping = merged_into(managed, "ENGLAND", day)
    scope, chosen = scope_for(ADMIN, "ENGLAND", conn, day, mapping)
    assert chosen == "ENGLAND" and not scope.england


def _grant_directly(engine: Engine, username: str, code: str) -> None:
    """Past accounts' own refusal, as a store from before the rule would hold it."""
    user = accounts.get_user_by_name(engine, username)
    with engine.begin() as db:
        db.execute(update(user_cdops).where(user_cdops.c.user_id == user.id).values(cdop_code=code))


def test_a_store_holding_a_cdop_coded_england_gives_its_users_only_their_footprint(own_settings: Settings) -> None:
    """Through the app, on an operational store written before the fix. Fails on the code before the fix."""
    app = make_app(own_settings)
    engine = app.server.extensions["cdop"].engine
    day = date.today()
    conn = open_readonly(own_settings.store_path)
    try:
        old = mapping_store.MappingSource(engine).current(conn)
        new = merged_into(old, "ENGLAND", day)
        mapping_store.apply(
            engine, old, new, username="legacy", kind="merge", effective_from=day, reason="before the rule", detail={}
        )
        expected = report.headline(conn, cdop_scope(conn, ["ENGLAND"], day, new), Filters())["deaths"][0]
        trusts = set(cdop_scope(conn, ["ENGLAND"], day, new).trust_codes)
    finally:
        conn.close()
    accounts.add_user(engine, "eve", PASSWORD, "cdop", ["LLR"])
    _grant_directly(engine, "eve", "ENGLAND")
    eve = DashClient(signed_in(app, "eve", PASSWORD))
    for search in ("", "?footprint=ENGLAND", f"?footprint={ENGLAND}", "?footprint=ALL"):
        got = eve.outputs(OVERVIEW, {"url.search": search})
        tiles = headline(got, ids.OVERVIEW_HEADLINE)
        assert "Deaths in hospitals in England" not in tiles, search
        assert tiles["Deaths in hospitals in this footprint"] == f"{expected:,}", search
        assert [o["value"] for o in got[f"{ids.FOOTPRINT}.options"]] == ["ENGLAND"]
    response = eve.client.get(f"/download/by-trust.csv?footprint={ENGLAND}")
    assert response.status_code == 200
    rows = list(csv.DictReader(io.StringIO(response.get_data(as_text=True))))
    assert rows and {row["trust_code"] for row in rows} <= trusts


def test_a_cdop_coded_england_from_before_the_rule_can_be_merged_away(
    conn: duckdb.DuckDBPyConnection, managed: Mapping
) -> None:
    """The way out for a store that already holds one: its code may be merged into a proper one."""
    legacy = recode(managed, "LLR", "ENGLAND")
    merged = mapping_changes.merge_cdops(
        legacy, ["ENGLAND", "NHAM"], "EMCD", "East Midlands CDOP", date(2099, 4, 1), date.today()
    )
    mapping_changes.check(legacy, merged, mapping_changes.reference(conn))
    assert merged.current_on("ENGLAND", date(2099, 4, 1)) == "EMCD"

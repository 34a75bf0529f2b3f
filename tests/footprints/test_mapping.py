"""The managed trust-to-CDOP mapping: history in the operational store, each
kind of change, its checks and its preview against the query layer."""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta

import duckdb
import pytest
from sqlalchemy import Engine, func, select

from footprints import changes as mapping_changes
from footprints import store as mapping_store
from footprints.changes import MappingError, MappingInvalid
from footprints.preview import first_difference, preview
from operational import accounts
from operational import tables as operational
from queries import report
from queries.filters import Filters
from queries.mapping import mapping_from_store
from queries.scope import cdop_scope, cdops_in_force
from tests.conftest import TODAY

LATER = TODAY + timedelta(days=40)


@pytest.fixture
def engine(operational_url: str) -> Engine:
    return operational.connect(operational_url)


@pytest.fixture
def managed(engine: Engine, conn: duckdb.DuckDBPyConnection) -> mapping_store.Mapping:
    return mapping_store.MappingSource(engine).current(conn)


def deaths(conn: duckdb.DuckDBPyConnection, scope) -> int:
    return int(report.headline(conn, scope, Filters())["deaths"][0])


def test_the_seeded_mapping_gives_every_cdop_the_scope_of_the_reference_tables(conn, managed) -> None:
    assert managed.version == "m1"
    for code, _ in cdops_in_force(conn, TODAY):
        assert cdop_scope(conn, [code], TODAY, managed) == cdop_scope(conn, [code], TODAY)
    # an old code still leads to its successor, and the past keeps its footprint
    assert cdop_scope(conn, ["MERS"], TODAY, managed).cdop_codes == ("CANDM",)
    assert cdop_scope(conn, ["MERS"], TODAY.replace(year=2024), managed).cdop_codes == ("MERS",)


def test_seeding_happens_once(engine, conn) -> None:
    mapping = mapping_from_store(conn)
    assert mapping_store.seed(engine, mapping) is True
    assert mapping_store.seed(engine, mapping) is False
    with engine.connect() as db:
        assert db.execute(select(func.count()).select_from(operational.mapping_revisions)).scalar() == 1


def test_a_merger_takes_effect_on_its_day_with_both_footprints_and_residents(conn, managed) -> None:
    merged = mapping_changes.merge_cdops(managed, ["LLR", "NHAM"], "EMCD", "East Midlands CDOP", LATER, TODAY)
    llr, nham = cdop_scope(conn, ["LLR"], LATER, managed), cdop_scope(conn, ["NHAM"], LATER, managed)
    # the day before, nothing has changed
    assert cdop_scope(conn, ["LLR"], LATER - timedelta(days=1), merged) == cdop_scope(
        conn, ["LLR"], LATER - timedelta(days=1), managed
    )
    after = cdop_scope(conn, ["EMCD"], LATER, merged)
    assert after.label == "East Midlands CDOP"
    assert set(after.trust_codes) == set(llr.trust_codes) | set(nham.trust_codes)
    assert set(after.la_codes) == set(llr.la_codes) | set(nham.la_codes)
    # the former CDOPs' users follow the merger
    assert cdop_scope(conn, ["LLR"], LATER, merged) == after == cdop_scope(conn, ["NHAM"], LATER, merged)
    assert "LLR|" + llr.trust_codes[0] in after.local_pairs  # deaths LLR reviewed count as reviewed locally
    assert deaths(conn, after) >= max(deaths(conn, llr), deaths(conn, nham))


def test_the_merger_preview_counts_with_the_query_layer(conn, engine, managed) -> None:
    merged = mapping_changes.merge_cdops(managed, ["LLR", "NHAM"], "EMCD", "East Midlands CDOP", LATER, TODAY)
    users = [
        accounts.add_user(engine, "llr.user", "x", "cdop", ["LLR"], demo=True),
        accounts.add_user(engine, "ncl.user", "x", "cdop", ["NCL"], demo=True),
    ]
    result = preview(conn, managed, merged, LATER, users, {})
    impacts = {c.code: c for c in result.cdops}
    assert set(impacts) == {"LLR", "NHAM", "EMCD"}
    llr = cdop_scope(conn, ["LLR"], LATER, managed)
    emcd = cdop_scope(conn, ["EMCD"], LATER, merged)
    assert impacts["LLR"].before.deaths == deaths(conn, llr)
    assert impacts["LLR"].after.deaths == impacts["EMCD"].after.deaths == deaths(conn, emcd)
    assert impacts["EMCD"].before is None
    assert [u.username for u in result.users] == ["llr.user"]  # NCL's view does not change
    moved = {m.trust_code: m for m in result.trusts}
    assert set(moved) == set(emcd.trust_codes)
    assert all(m.after == ("EMCD",) for m in moved.values())


def test_applying_keeps_history_and_changes_the_version(conn, engine, managed) -> None:
    merged = mapping_changes.merge_cdops(managed, ["LLR", "NHAM"], "EMCD", "East Midlands CDOP", LATER, TODAY)
    applied = mapping_store.apply(
        engine, managed, merged, username="admin", kind="merge", effective_from=LATER, reason="test", detail={}
    )
    assert applied.revision == 2 and applied.retired > 0 and applied.added > applied.retired
    source = mapping_store.MappingSource(engine)
    now = source.current(conn)
    assert now.version == "m2"
    assert set(now.footprint) == set(merged.footprint) and set(now.cdops) == set(merged.cdops)
    # nothing is overwritten: the rows that ended are kept, marked retired by revision 2
    history = mapping_store.footprint_history(engine, cdop_code="LLR")
    retired = [row for row in history if row["retired_by"] == 2]
    assert retired and all(row["valid_to"] is None and row["added_by"] == 1 for row in retired)
    assert {row["valid_to"] for row in history if row["retired_by"] is None} == {LATER}
    assert mapping_store.revisions(engine)[0]["kind"] == "merge"
    # a second apply from the same (now stale) mapping is refused
    with pytest.raises(mapping_store.MappingConflict):
        mapping_store.apply(
            engine, managed, merged, username="admin", kind="merge", effective_from=LATER, reason="x", detail={}
        )


def test_a_rename_changes_only_the_name_from_its_day(conn, managed) -> None:
    renamed = mapping_changes.rename_cdop(managed, "LLR", "Leicester and Rutland CDOP", LATER, TODAY)
    assert cdop_scope(conn, ["LLR"], LATER - timedelta(days=1), renamed).label.startswith("Leicester, Leic")
    after = cdop_scope(conn, ["LLR"], LATER, renamed)
    assert after.label == "Leicester and Rutland CDOP"
    assert after.trust_codes == cdop_scope(conn, ["LLR"], LATER, managed).trust_codes
    assert first_difference(managed, renamed, TODAY) == LATER


def test_a_trust_moves_on_its_day(conn, managed) -> None:
    llr = cdop_scope(conn, ["LLR"], TODAY, managed)
    trust = llr.trust_codes[0]
    moved = mapping_changes.move_trust(managed, trust, "NCL", LATER, TODAY, from_cdop="LLR")
    mapping_changes.check(managed, moved, mapping_changes.reference(conn))
    assert trust in cdop_scope(conn, ["LLR"], LATER - timedelta(days=1), moved).trust_codes
    assert trust not in cdop_scope(conn, ["LLR"], LATER, moved).trust_codes
    assert trust in cdop_scope(conn, ["NCL"], LATER, moved).trust_codes


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (lambda m: mapping_changes.merge_cdops(m, ["LLR"], "EMCD", "X", LATER, TODAY), "at least two"),
        (lambda m: mapping_changes.merge_cdops(m, ["LLR", "NOPE"], "EMCD", "X", LATER, TODAY), "NOPE is not a CDOP"),
        (lambda m: mapping_changes.merge_cdops(m, ["LLR", "NHAM"], "NCL", "X", LATER, TODAY), "already used"),
        (lambda m: mapping_changes.merge_cdops(m, ["LLR", "NHAM"], "e m", "X", LATER, TODAY), "capital letters"),
        (lambda m: mapping_changes.merge_cdops(m, ["LLR", "MERS"], "EMCD", "X", LATER, TODAY), "MERS is not a CDOP"),
        (lambda m: mapping_changes.merge_cdops(m, ["LLR", "NHAM"], "EMCD", "Pan-Dorset CDOP", LATER, TODAY), "called"),
        (lambda m: mapping_changes.rename_cdop(m, "LLR", "X", TODAY - timedelta(days=1), TODAY), "in the past"),
        (lambda m: mapping_changes.move_trust(m, "RWE", "LLR", LATER, TODAY), "already in LLR"),
        (lambda m: mapping_changes.move_trust(m, "RWE", "NCL", LATER, TODAY, from_cdop="KMED"), "not in KMED"),
    ],
)
def test_changes_that_cannot_be_made_say_why_in_one_line(managed, change, message: str) -> None:
    with pytest.raises(MappingError, match=message) as caught:
        change(managed)
    assert "\n" not in str(caught.value)


def test_a_later_change_cannot_overlap_a_scheduled_one(managed) -> None:
    moved = mapping_changes.move_trust(managed, "RWE", "NCL", LATER, TODAY, from_cdop="LLR")
    with pytest.raises(MappingError, match=r"already has a change scheduled .* periods would overlap"):
        mapping_changes.move_trust(moved, "RWE", "KMED", LATER - timedelta(days=5), TODAY, from_cdop="LLR")


def test_the_checks_name_unknown_codes_overlaps_and_trusts_left_without_a_cdop(conn, managed) -> None:
    ref = mapping_changes.reference(conn)
    unknown = mapping_changes.move_trust(managed, "ZZZ", "NCL", LATER, TODAY)
    with pytest.raises(MappingInvalid, match="ZZZ is not a known English trust code"):
        mapping_changes.check(managed, unknown, ref)
    rwe = [r for r in managed.footprint if r.trust_code == "RWE"]
    overlapping = replace(managed, footprint=(*managed.footprint, replace(rwe[0], valid_from=LATER, row_id=None)))
    with pytest.raises(MappingInvalid, match="RWE in LLR has overlapping periods"):
        mapping_changes.check(managed, overlapping, ref)
    orphaned = replace(managed, footprint=tuple(r for r in managed.footprint if r.trust_code != "RWE"))
    with pytest.raises(MappingInvalid, match=r"RWE \(.*\) would be left without a CDOP") as caught:
        mapping_changes.check(managed, orphaned, ref)
    assert all("\n" not in problem for problem in caught.value.problems)
    mapping_changes.check(managed, managed, ref)  # the mapping in force passes

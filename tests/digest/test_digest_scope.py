"""A digest counts only the deaths its user may see now: never a death outside their footprint,
including after the mapping changes and after a CDOP is taken away (then no digest at all)."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest

from digest import run
from operational import accounts, digests
from tests.digest.world import ADDRESSES, DigestWorld, counted, text_of
from tests.mail_server import MailServer

TWO = ("llr.and.blu", "a long enough password 2")


@pytest.fixture
def world(tmp_path: Path, mail_server: MailServer) -> DigestWorld:
    return DigestWorld(tmp_path / "instance", mail_server)


def statuses(report: run.Report) -> dict[str, str]:
    return {o.username: o.status for o in report.outcomes}


def test_a_death_outside_the_footprint_is_never_counted(world: DigestWorld) -> None:
    world.send()
    (llr,) = world.mail.mailbox.to(ADDRESSES["llr"])
    assert "4 new deaths" in llr["Subject"]  # the fifth new death is at Great Ormond Street, in NCL's footprint
    (ncl,) = world.mail.mailbox.to(ADDRESSES["ncl"])
    assert "1 new death " in ncl["Subject"]


def test_after_a_trust_moves_its_new_deaths_count_for_its_new_footprint_only(world: DigestWorld) -> None:
    world.opt_in("nham", "nham.manager@example.nhs.uk", "daily")
    # nham's mark is the second load's: make it the first, like the others
    digests.verify(world.engine, world.user_id("nham"), "nham.manager@example.nhs.uk", world.first_load)
    moved = world.cli(
        "mapping",
        "move",
        "RWE",
        "--from",
        "LLR",
        "--to",
        "NHAM",
        "--date",
        date.today().isoformat(),
        "--apply",
        "--reason",
        "Leicester's hospitals join Northamptonshire for this test",
    )
    assert moved.returncode == 0, moved.stderr
    report = world.send()
    assert statuses(report)["llr"] == run.NOTHING_NEW
    assert world.mail.mailbox.to(ADDRESSES["llr"]) == []
    (nham,) = world.mail.mailbox.to("nham.manager@example.nhs.uk")
    assert nham["Subject"] == "Deaths by hospital trust: 4 new deaths in the hospitals of Northamptonshire CDOP"
    # Leicester's own child is, in Northamptonshire's hospitals, a non-resident whom LLR reviews
    assert counted(text_of(nham))["Non-residents reviewed by another CDOP"] == 3
    assert counted(text_of(nham))["Residents of this footprint"] == 0


def test_after_a_cdop_is_revoked_its_deaths_are_not_counted_and_then_no_digest_is_sent(world: DigestWorld) -> None:
    accounts.add_user(world.engine, TWO[0], TWO[1], "cdop", ["BLU", "LLR"])
    world.opt_in(TWO[0], "two@example.nhs.uk", "daily")
    digests.verify(world.engine, world.user_id(TWO[0]), "two@example.nhs.uk", world.first_load)
    dry = world.send(only_user=TWO[0], dry_run=True)
    assert statuses(dry) == {TWO[0]: run.WOULD_SEND} and dry.outcomes[0].counts.total == 4
    accounts.revoke(world.engine, TWO[0], "LLR")
    report = world.send(only_user=TWO[0])
    assert statuses(report) == {TWO[0]: run.NOTHING_NEW}
    assert world.mail.mailbox.messages == []


def test_no_cdop_in_force_or_a_disabled_account_gets_no_digest(world: DigestWorld) -> None:
    accounts.add_user(world.engine, "gone.cdop", "a long enough password 3", "cdop", ["OLDCDOP"])
    world.opt_in("gone.cdop", "gone@example.nhs.uk", "daily")
    accounts.set_active(world.engine, "llr", False)
    report = world.send()
    assert statuses(report)["gone.cdop"] == run.SKIPPED and "llr" not in statuses(report)
    assert sorted(m["To"] for m in world.mail.mailbox.messages) == [ADDRESSES["ncl"]]

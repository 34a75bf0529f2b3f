"""One way to change the mapping, for the admin page and the command line
alike: turn what was asked into a proposal (the new mapping, checked, with its
preview), then commit it with a reason, audited.

Nothing is written until ``commit``; a proposal that fails a check raises with
one line per problem.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Any

import duckdb
from sqlalchemy import Engine

from footprints import changes as mapping_changes
from footprints import csv_format as mapping_csv
from footprints import store as mapping_store
from footprints.changes import MappingError, MappingInvalid
from footprints.preview import Preview, first_difference, preview
from operational import accounts, audit
from queries.mapping import Mapping

MIN_REASON = 5
MAX_REASON = 2000


@dataclass(frozen=True)
class Proposal:
    kind: str
    old: Mapping
    new: Mapping
    effective_from: date | None  # None for an uploaded mapping (it may change several dates)
    preview: Preview
    asked: dict[str, Any]  # what was asked, as given (for the audit log)


def parse_day(text: object) -> date:
    try:
        return date.fromisoformat(str(text or "").strip())
    except ValueError:
        raise MappingError("the effective date must be a date as YYYY-MM-DD") from None


def _codes(value: object) -> list[str]:
    items = value if isinstance(value, list | tuple) else str(value or "").replace(";", ",").split(",")
    return [str(item).strip().upper() for item in items if str(item).strip()]


def change(mapping: Mapping, kind: str, asked: dict[str, Any], today: date) -> tuple[Mapping, date]:
    """The new mapping for a change of ``kind`` (``mapping_changes.KINDS``), and its effective date."""
    day = parse_day(asked.get("date"))
    text = {k: str(v or "").strip() for k, v in asked.items() if not isinstance(v, list | tuple)}
    if kind == "move":
        if not text.get("trust") or not text.get("to"):
            raise MappingError("a move needs a trust and the CDOP it joins")
        return mapping_changes.move_trust(
            mapping, text["trust"], text["to"], day, today, from_cdop=text.get("from") or None
        ), day
    if kind == "merge":
        return mapping_changes.merge_cdops(
            mapping, _codes(asked.get("cdops")), text.get("code", ""), text.get("name", ""), day, today
        ), day
    if kind == "rename":
        return mapping_changes.rename_cdop(mapping, text.get("cdop", ""), text.get("name", ""), day, today), day
    raise MappingError(f"unknown kind of change {kind!r}: one of {', '.join(mapping_changes.KINDS)}")


def propose(
    conn: duckdb.DuckDBPyConnection, engine: Engine, old: Mapping, kind: str, asked: dict[str, Any], today: date
) -> Proposal:
    new, day = change(old, kind, asked, today)
    return _proposal(conn, engine, old, new, kind, day, day, asked)


def propose_upload(
    conn: duckdb.DuckDBPyConnection, engine: Engine, old: Mapping, data: bytes, filename: str, today: date
) -> Proposal:
    new = mapping_csv.with_footprint(old, mapping_csv.read_footprint_csv(data))
    day = first_difference(old, new, today)
    return _proposal(conn, engine, old, new, "import", None, day, {"file": filename[:200], "bytes": len(data)})


def _proposal(
    conn: duckdb.DuckDBPyConnection,
    engine: Engine,
    old: Mapping,
    new: Mapping,
    kind: str,
    effective: date | None,
    day: date,
    asked: dict[str, Any],
) -> Proposal:
    ref = mapping_changes.reference(conn)
    mapping_changes.check(old, new, ref)
    shown = preview(conn, old, new, day, accounts.list_users(engine), ref.trusts)
    return Proposal(kind=kind, old=old, new=new, effective_from=effective, preview=shown, asked=asked)


def check_reason(reason: object) -> str:
    text = " ".join(reason.split()) if isinstance(reason, str) else ""
    if len(text) < MIN_REASON:
        raise MappingError(f"give a reason for the change (at least {MIN_REASON} characters)")
    return text[:MAX_REASON]


def commit(
    engine: Engine, proposal: Proposal, username: str, remote_addr: str | None, reason: object
) -> mapping_store.Applied:
    """Apply the proposal as one revision and record it in the audit log."""
    why = check_reason(reason)
    if set(proposal.old.footprint) == set(proposal.new.footprint) and set(proposal.old.cdops) == set(
        proposal.new.cdops
    ):
        raise MappingError("this changes nothing in the mapping in force")
    summary = proposal.preview.summary()
    applied = mapping_store.apply(
        engine,
        proposal.old,
        proposal.new,
        username=username,
        kind=proposal.kind,
        effective_from=proposal.effective_from,
        reason=why,
        detail={"asked": proposal.asked, "preview": summary},
    )
    audit.record(
        engine,
        "admin_action",
        username,
        remote_addr,
        action=f"mapping {proposal.kind}",
        revision=applied.revision,
        effective_from=proposal.effective_from.isoformat() if proposal.effective_from else None,
        reason=why,
        asked=proposal.asked,
        preview=summary,
    )
    return applied


def problems_of(error: Exception) -> list[str]:
    """One line per problem, for a page or a terminal."""
    if isinstance(error, MappingInvalid):
        return error.problems
    return [str(error).splitlines()[0] if str(error) else type(error).__name__]


def describe(proposal: Proposal) -> list[str]:
    """The preview as lines of text (the command line's and the audit's view)."""
    p = proposal.preview
    lines = [f"Preview of the mapping on {p.day:%d %B %Y}:"]
    if not p.changes_anything:
        lines.append("  nothing changes on that day")
    for t in p.trusts:
        lines.append(
            f"  trust {t.trust_code} ({t.trust_name}): {', '.join(t.before) or 'no CDOP'} -> "
            f"{', '.join(t.after) or 'no CDOP'}"
        )
    for c in p.cdops:
        before = f"{c.before.label}: {len(c.before.trusts)} trusts, {c.before.deaths:,} deaths" if c.before else "-"
        after = f"{c.after.label}: {len(c.after.trusts)} trusts, {c.after.deaths:,} deaths" if c.after else "-"
        lines.append(f"  CDOP {c.code}: {before} -> {after}")
    for u in p.users:
        before = u.before.label if u.before else "nothing"
        after = u.after.label if u.after else "nothing"
        lines.append(f"  user {u.username} sees {before} -> {after}")
    return lines

"""A user's digest, as counts: from the What's new page's own scoped queries.

The footprint is the user's default one, decided by the scope policy
(``queries.scope.scope_for`` with nothing asked for: all their CDOPs, or all
England for an administrator), under the mapping in force today: the very
scope the What's new page opens with. The deaths are ``whatsnew.new_cases``,
the page's list, and the flags the page's ``attention_counts``: so the digest
can never count a death the page would not show that user.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime

import duckdb
import polars as pl

from queries import flags, whatsnew
from queries.mapping import Mapping
from queries.scope import Rights, Scope, scope_for


@dataclass(frozen=True)
class DigestCounts:
    footprint: str  # the scope's label, e.g. "Leicester, Leicestershire and Rutland CDOP"
    since: datetime  # deaths that entered the store after this moment...
    until: datetime | None  # ...up to the newest load (the new digest mark)
    total: int
    groups: dict[str, int]  # by whatsnew.GROUPS, in its order (zeros included)
    flagged_new: dict[str, int]  # the attention flags among the new deaths, by flags.FLAGS
    flagged_all: dict[str, int]  # the attention flags among every death in the footprint (the page's list)
    flag_labels: dict[str, str]

    def as_detail(self) -> dict[str, object]:
        """For the audit log."""
        return {
            "footprint": self.footprint,
            "since": self.since.isoformat(),
            "until": self.until.isoformat() if self.until else None,
            "total": self.total,
            "groups": self.groups,
            "flagged_new": self.flagged_new,
            "flagged_all": self.flagged_all,
        }


def user_scope(user: Rights, conn: duckdb.DuckDBPyConnection, day: date, mapping: Mapping) -> Scope:
    """The footprint the What's new page opens with for this user (NoFootprint if none is in force)."""
    scope, _chosen = scope_for(user, None, conn, day, mapping)
    return scope


def count(conn: duckdb.DuckDBPyConnection, scope: Scope, since: datetime, rule: flags.AttentionRule) -> DigestCounts:
    """What is new in ``scope`` since ``since``, counted from the page's own list."""
    frame = whatsnew.new_cases(conn, scope, since, rule)
    by_group = dict(frame["group_code"].value_counts().iter_rows()) if frame.height else {}
    by_label = _labels_counted(frame["attention"]) if frame.height else {}
    return DigestCounts(
        footprint=scope.label,
        since=since,
        until=whatsnew.latest_load(conn),
        total=frame.height,
        groups={code: int(by_group.get(code, 0)) for code in whatsnew.GROUPS},
        flagged_new={flag: int(by_label.get(rule.labels[flag], 0)) for flag in flags.FLAGS},
        flagged_all=whatsnew.attention_counts(conn, scope, rule),
        flag_labels=rule.labels,
    )


def _labels_counted(attention: pl.Series) -> dict[str, int]:
    """How many rows carry each flag, from the list's Attention column ('; '-separated labels)."""
    labels = attention.drop_nulls().str.split("; ").explode()
    return dict(labels.value_counts().iter_rows()) if labels.len() else {}

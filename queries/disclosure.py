"""Disclosure control for published tables: primary and secondary (complementary) cell suppression.

Pure (no Flask, no Dash, no SQL), so that every writer of a publishable table
(the CSV downloads, the panel pack workbook) hides the same cells.

The rule, as statistical offices apply it:

- primary: a count of 1 to ``threshold - 1`` (1-4) is hidden; 0 is shown;
- secondary: while any hidden cell could still be worked out exactly by adding
  and subtracting published cells of the lines it sits on (a row or column
  and its total, parts and the total they add to), hide one more cell: the
  smallest non-zero published cell on a line through the exposed cell (a
  total if that is the smallest). A 0 is never hidden as a complement: a
  reader who knows it is 0 learns nothing from it being hidden.

"Could be worked out" is checked exactly, with linear algebra, not by the
usual "no line has exactly one hidden cell" rule, which leaves chains of
lines that can still be solved together.

A table is described as cells (any hashable keys, non-negative integer
values) and relations (a total equals the sum of its parts). Values a reader
knows from elsewhere (the total of deaths in view, stated on every page) are
passed as ``known``: they take part in relations but are never hidden. A key
that a relation names but that is neither a cell nor known is a value the
reader does not have (a margin hidden in another table).
"""

from __future__ import annotations

from collections.abc import Hashable, Mapping, Sequence
from dataclasses import dataclass

import numpy as np

PRIMARY = "primary"
COMPLEMENTARY = "complementary"
THRESHOLD = 5  # counts below this (and above 0) are hidden
_TOLERANCE = 1e-8


@dataclass(frozen=True)
class Relation:
    """``total`` equals the sum of ``parts`` (keys of cells, known values or unknowns)."""

    total: Hashable
    parts: tuple[Hashable, ...]


class Unprotectable(ValueError):
    """No choice of complementary cells hides every small count (never seen; refused rather than published)."""


def suppress(
    cells: Mapping[Hashable, int],
    relations: Sequence[Relation],
    known: Mapping[Hashable, int] | None = None,
    threshold: int = THRESHOLD,
) -> dict[Hashable, str]:
    """The cells to hide, each marked ``PRIMARY`` or ``COMPLEMENTARY``."""
    # a small count is hidden wherever it is published, so no reader knows it
    known = {key: value for key, value in (known or {}).items() if not 0 < value < threshold}
    hidden: dict[Hashable, str] = {key: PRIMARY for key, value in cells.items() if 0 < value < threshold}
    if not hidden:
        return hidden
    lines = [(r.total, *r.parts) for r in relations]
    # cells the known values fix on their own (a total's only part) protect nothing: never complements
    fixed = set(recoverable(lines, cells, known, set(cells)))
    if fixed & hidden.keys():
        raise Unprotectable("a small count follows from totals published elsewhere")
    for _ in range(len(cells) + 1):  # each round hides one more cell, or stops
        exposed = recoverable(lines, cells, known, hidden)
        if not exposed:
            return hidden
        hidden[_complement(exposed[0], lines, cells, {**known, **dict.fromkeys(fixed, 0)}, hidden)] = COMPLEMENTARY
    raise Unprotectable("the table's small counts cannot all be hidden")


def recoverable(
    lines: Sequence[Sequence[Hashable]],
    cells: Mapping[Hashable, int],
    known: Mapping[Hashable, int],
    hidden: Mapping[Hashable, str] | set[Hashable],
) -> list[Hashable]:
    """The hidden cells whose value follows from the published ones.

    Each line ``(total, *parts)`` is the equation total - sum(parts) = 0. The
    unknowns are the hidden cells and any key neither a cell nor known; with
    the published values moved to the right-hand side, an unknown is fixed by
    the equations exactly when its unit vector lies in the row space of their
    matrix restricted to the unknowns (then some combination of lines gives
    it alone), i.e. when the orthogonal projection onto that row space keeps it."""
    unknowns: dict[Hashable, int] = {}
    rows: list[dict[int, float]] = []
    for line in lines:
        row: dict[int, float] = {}
        for position, key in enumerate(line):
            if key in hidden or (key not in cells and key not in known):
                column = unknowns.setdefault(key, len(unknowns))
                row[column] = row.get(column, 0.0) + (1.0 if position == 0 else -1.0)
        if any(row.values()):
            rows.append(row)
    if not rows:
        return []  # no line holds a hidden cell: nothing to solve
    matrix = np.zeros((len(rows), len(unknowns)))
    for index, row in enumerate(rows):
        for column, coefficient in row.items():
            matrix[index, column] = coefficient
    _, singular, basis = np.linalg.svd(matrix, full_matrices=False)
    rank = int((singular > _TOLERANCE * max(1.0, singular[0] if singular.size else 0.0)).sum())
    kept = (basis[:rank] ** 2).sum(axis=0)  # diagonal of the projector onto the row space
    fixed = {key for key, column in unknowns.items() if kept[column] > 1 - 1e-6}
    return [key for key in hidden if key in cells and key in fixed]


def _complement(
    exposed: Hashable,
    lines: Sequence[Sequence[Hashable]],
    cells: Mapping[Hashable, int],
    known: Mapping[Hashable, int],
    hidden: Mapping[Hashable, str],
) -> Hashable:
    """The cell to hide next: the smallest non-zero published cell on a line
    through ``exposed``; failing that, on any line with a hidden cell."""

    def candidates(chosen: Sequence[Sequence[Hashable]]) -> list[Hashable]:
        return [
            key
            for line in chosen
            for key in line
            if key in cells and key not in hidden and key not in known and cells[key] > 0
        ]

    through = candidates([line for line in lines if exposed in line])
    found = through or candidates([line for line in lines if any(key in hidden for key in line)])
    if not found:
        raise Unprotectable("the table's small counts cannot all be hidden")
    order = {key: index for index, key in enumerate(cells)}  # ties: the first in the table
    return min(found, key=lambda key: (cells[key], order[key]))


def long_table(
    counts: Sequence[int],
    keys: Mapping[str, Sequence[Hashable]],
    threshold: int = THRESHOLD,
) -> dict[int, str]:
    """Which rows' counts to hide in a long-format table (one row per
    combination of its key columns, absent combinations being 0), treated as
    the cross-table it represents: the grand total is known to the reader
    (every page states it), and so is each key's margin (the total for one
    trust, one place...) unless a one-way table of that key, protected the
    same way, would hide it. Keys that are different in every row add no
    margin (their margin is the row itself)."""
    grand = sum(counts)
    rows = range(len(counts))
    relations = [Relation("grand", tuple(rows))]
    known: dict[Hashable, int] = {"grand": grand}
    for name, values in keys.items():
        members: dict[Hashable, list[int]] = {}
        for row, value in zip(rows, values, strict=True):
            members.setdefault(value, []).append(row)
        if len(members) == len(counts):
            continue
        margins = {(name, value): sum(counts[row] for row in group) for value, group in members.items()}
        one_way = suppress(margins, [Relation("grand", tuple(margins))], {"grand": grand}, threshold)
        for value, group in members.items():
            relations.append(Relation((name, value), tuple(group)))
            if (name, value) not in one_way:
                known[(name, value)] = margins[(name, value)]
    return suppress(dict(zip(rows, counts, strict=True)), relations, known, threshold)  # type: ignore[return-value]

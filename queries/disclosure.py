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
SEQUENTIAL_UP_TO = 300  # cells: up to this size, complements are chosen one at a time


@dataclass(frozen=True)
class Relation:
    """``total`` equals the sum of ``parts`` (keys of cells, known values or unknowns)."""

    total: Hashable
    parts: tuple[Hashable, ...]


class Unprotectable(ValueError):
    """No choice of complementary cells hides every small count: refused rather than published. (Only
    known values can cause it; the downloads' one known value, the total of all their cells, cannot.)"""


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
    members = [set(line) for line in lines]
    # cells the known values fix on their own (a total's only part) protect nothing: never complements
    fixed = set(recoverable(lines, cells, known, set(cells)))
    if fixed & hidden.keys():
        raise Unprotectable("a small count follows from totals published elsewhere")
    never = {**known, **dict.fromkeys(fixed, 0)}
    for _ in range(len(cells) + 1):  # each round hides at least one more cell, or stops
        exposed = recoverable(lines, cells, known, hidden)
        if not exposed:
            return hidden
        # one complement per round hides the fewest cells; a national table has thousands of small
        # counts, where one exact check per complement would take minutes: one for each exposed cell
        added = 0
        for cell in exposed:
            choice = _complement(cell, lines, members, cells, never, hidden)
            if choice is not None:
                hidden[choice] = COMPLEMENTARY
                added += 1
                if len(cells) <= SEQUENTIAL_UP_TO:
                    break
        if not added:
            break
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
    members: Sequence[set[Hashable]],
    cells: Mapping[Hashable, int],
    known: Mapping[Hashable, int],
    hidden: Mapping[Hashable, str],
) -> Hashable | None:
    """The cell to hide next: the smallest non-zero published cell on a line
    through ``exposed``; failing that, on any line with a hidden cell; None if there is none."""

    def candidates(chosen: Sequence[Sequence[Hashable]]) -> list[Hashable]:
        return [
            key
            for line in chosen
            for key in line
            if key in cells and key not in hidden and key not in known and cells[key] > 0
        ]

    through = candidates([line for line, keys in zip(lines, members, strict=True) if exposed in keys])
    found = through or candidates([line for line in lines if any(key in hidden for key in line)])
    if not found:
        return None
    order = {key: index for index, key in enumerate(cells)}  # ties: the first in the table
    return min(found, key=lambda key: (cells[key], order[key]))


def long_table(counts: Sequence[int], threshold: int = THRESHOLD) -> dict[int, str]:
    """Which rows' counts to hide in a long-format table: one row per combination of its keys
    (a trust and a place, say), absent ones 0, no total rows. Its cells' only relation is that
    they add up to the total of deaths in view, which the reader has (every page states it);
    the margins of the cross-table it represents are not in it. (Margins published in other
    tables are not taken as known: protecting each table against every other one's own choice
    of hidden cells can be impossible, as it was for the demo store's Leicester trusts-page table of 2023/24.
    Tables published together, as in one workbook, are protected together by ``suppress``.)"""
    grand = sum(counts)
    rows = tuple(range(len(counts)))
    cells = dict(zip(rows, counts, strict=True))
    return suppress(cells, [Relation("grand", rows)], {"grand": grand}, threshold)  # type: ignore[return-value]

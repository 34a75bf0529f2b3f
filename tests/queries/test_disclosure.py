"""Cell suppression: no hidden count can be worked out from the published cells of its table."""

from __future__ import annotations

from collections.abc import Hashable, Mapping, Sequence

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from queries.disclosure import COMPLEMENTARY, PRIMARY, Relation, long_table, suppress


def solvable(relations: Sequence[Relation], published: Mapping[Hashable, int], unknown: set[Hashable]) -> set[Hashable]:
    """The unknowns fixed by the relations once the published values are moved
    to the right-hand side: those whose unit vector adds nothing to the rank of
    the equations' matrix over the unknowns (an independent check, by rank)."""
    order = sorted(unknown, key=repr)
    column = {key: index for index, key in enumerate(order)}
    rows = []
    for relation in relations:
        row = np.zeros(len(order))
        for sign, key in [(1.0, relation.total), *((-1.0, part) for part in relation.parts)]:
            if key in column:
                row[column[key]] += sign
            else:
                assert key in published, key
        rows.append(row)
    matrix = np.array(rows) if rows else np.zeros((0, len(order)))
    rank = np.linalg.matrix_rank(matrix) if rows else 0
    fixed = set()
    for key in order:
        unit = np.zeros(len(order))
        unit[column[key]] = 1.0
        if np.linalg.matrix_rank(np.vstack([matrix, unit])) == rank:
            fixed.add(key)
    return fixed


def cross_table(body: list[list[int]]) -> tuple[dict[Hashable, int], list[Relation]]:
    """A table with row totals, column totals and a grand total, all published."""
    cells: dict[Hashable, int] = {}
    for i, row in enumerate(body):
        for j, value in enumerate(row):
            cells[(i, j)] = value
        cells[("row", i)] = sum(row)
    for j in range(len(body[0])):
        cells[("col", j)] = sum(row[j] for row in body)
    cells["grand"] = sum(map(sum, body))
    relations = [Relation(("row", i), tuple((i, j) for j in range(len(body[0])))) for i in range(len(body))]
    relations += [Relation(("col", j), tuple((i, j) for i in range(len(body)))) for j in range(len(body[0]))]
    relations.append(Relation("grand", tuple(("row", i) for i in range(len(body)))))
    relations.append(Relation("grand", tuple(("col", j) for j in range(len(body[0])))))
    return cells, relations


counts = st.one_of(st.just(0), st.integers(1, 4), st.integers(5, 40), st.integers(41, 600))
bodies = st.integers(1, 6).flatmap(
    lambda width: st.lists(st.lists(counts, min_size=width, max_size=width), min_size=1, max_size=6)
)


@settings(max_examples=300, deadline=None)
@given(bodies)
def test_no_hidden_cell_of_a_table_with_margins_can_be_worked_out(body: list[list[int]]) -> None:
    cells, relations = cross_table(body)
    hidden = suppress(cells, relations)
    published = {key: value for key, value in cells.items() if key not in hidden}
    assert not solvable(relations, published, set(hidden)), (body, hidden)
    small = {key for key, value in cells.items() if 1 <= value <= 4}
    assert {key for key, kind in hidden.items() if kind == PRIMARY} == small
    assert all(cells[key] > 0 for key in hidden)  # a 0 is never hidden: it protects nothing
    if not small:
        assert hidden == {}


@settings(max_examples=200, deadline=None)
@given(st.lists(counts, max_size=40))
def test_a_long_table_hides_what_its_known_total_would_give_away(values: list[int]) -> None:
    hidden = long_table(values)
    assert {r for r, v in enumerate(values) if 1 <= v <= 4} == {r for r, kind in hidden.items() if kind == PRIMARY}
    assert all(values[r] > 0 for r in hidden)
    grand = sum(values)
    relations = [Relation("grand", tuple(range(len(values))))]
    published = {r: v for r, v in enumerate(values) if r not in hidden} | ({"grand": grand} if grand > 4 else {})
    unknown = set(hidden) | ({"grand"} if grand <= 4 else set())
    assert not (solvable(relations, published, unknown) & set(hidden)), (values, hidden)
    if len(hidden) == 1:  # alone, a hidden count is the known total less the rest
        assert grand <= 4


def test_the_headline_subtraction_is_closed() -> None:
    # seen in a download: 507 deaths, 400 residents, 105 non-residents, so 2 of residence not known
    cells = {"deaths": 507, "residents": 400, "non_residents": 105, "not_known": 2}
    relations = [Relation("deaths", ("residents", "non_residents", "not_known"))]
    hidden = suppress(cells, relations, known={"deaths": 507})
    assert hidden == {"not_known": PRIMARY, "non_residents": COMPLEMENTARY}


def test_nothing_is_hidden_without_small_counts_and_zeros_stay() -> None:
    cells, relations = cross_table([[0, 7], [12, 0]])
    assert suppress(cells, relations) == {}
    hidden = suppress(*cross_table([[3, 0], [0, 9]]))
    assert all(cells_value > 0 for cells_value in (3, 9)) and (0, 1) not in hidden and (1, 0) not in hidden


def test_a_chain_that_greedy_pairing_leaves_solvable_is_closed() -> None:
    # each line below has two hidden cells if only (0,0),(0,1),(1,1),(1,2) were hidden, yet they solve together
    body = [[3, 20, 0], [0, 4, 30], [10, 0, 11]]
    cells, relations = cross_table(body)
    hidden = suppress(cells, relations)
    published = {key: value for key, value in cells.items() if key not in hidden}
    assert not solvable(relations, published, set(hidden))

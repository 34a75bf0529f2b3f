"""Wilson's score interval, checked against published worked values, and the
small-number and comparison rules built on it."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from queries.intervals import MIN_DENOMINATOR, Share, compared_with, share_of, wilson_interval


@pytest.mark.parametrize(
    ("successes", "trials", "low", "high"),
    [(81, 263, 0.2553, 0.3662), (15, 148, 0.0624, 0.1605), (0, 20, 0.0, 0.1611), (1, 29, 0.0061, 0.1718)],
)
def test_the_interval_matches_newcombes_worked_examples(successes: int, trials: int, low: float, high: float) -> None:
    """Newcombe RG. Two-sided confidence intervals for the single proportion:
    comparison of seven methods. Statistics in Medicine 1998;17:857-872,
    Table II, method 3 (Wilson's score method without continuity correction,
    Wilson EB, J Am Stat Assoc 1927;22:209-212), at 95%: 81/263, 15/148, 0/20
    and 1/29, given to four decimal places."""
    found = wilson_interval(successes, trials)
    assert found is not None
    assert found[0] == pytest.approx(low, abs=5e-5)
    assert found[1] == pytest.approx(high, abs=5e-5)


def test_none_of_n_and_all_of_n_reach_their_bound_exactly() -> None:
    assert wilson_interval(0, 10) == (0.0, pytest.approx(0.2775, abs=5e-5))
    assert wilson_interval(10, 10) == (pytest.approx(0.7225, abs=5e-5), 1.0)
    assert wilson_interval(1, 1) == (pytest.approx(0.2065, abs=5e-5), 1.0)


def test_no_trials_give_no_interval_and_impossible_counts_are_refused() -> None:
    assert wilson_interval(0, 0) is None
    for successes, trials in ((1, 0), (5, 4), (-1, 3), (2, -1)):
        with pytest.raises(ValueError):
            wilson_interval(successes, trials)
    with pytest.raises(TypeError):
        wilson_interval(1.5, 3)  # type: ignore[arg-type]
    with pytest.raises(TypeError):
        wilson_interval(True, 3)  # type: ignore[arg-type]
    with pytest.raises(ValueError):
        wilson_interval(1, 3, z=0)


def test_a_wider_confidence_gives_a_wider_interval() -> None:
    narrow, wide = wilson_interval(30, 100, z=1.645), wilson_interval(30, 100, z=2.576)
    assert narrow is not None and wide is not None
    assert wide[0] < narrow[0] < 0.3 < narrow[1] < wide[1]


@given(st.integers(min_value=1, max_value=5000).flatmap(lambda n: st.tuples(st.integers(0, n), st.just(n))))
def test_the_interval_holds_the_share_stays_in_0_1_and_mirrors(pair: tuple[int, int]) -> None:
    successes, trials = pair
    low, high = wilson_interval(successes, trials)  # type: ignore[misc]
    assert 0.0 <= low <= successes / trials <= high <= 1.0
    mirror_low, mirror_high = wilson_interval(trials - successes, trials)  # type: ignore[misc]
    assert mirror_low == pytest.approx(1 - high, abs=1e-12)
    assert mirror_high == pytest.approx(1 - low, abs=1e-12)


def test_a_share_of_fewer_than_five_says_so_instead_of_a_figure() -> None:
    small = share_of(2, MIN_DENOMINATOR - 1)
    assert small == Share(2, 4, None, None, None) and small.too_few
    enough = share_of(2, MIN_DENOMINATOR)
    assert enough.share == pytest.approx(0.4) and (enough.low, enough.high) == wilson_interval(2, 5)
    assert not enough.too_few
    with pytest.raises(ValueError):
        share_of(3, 2)  # refused even when too few to show


def test_england_is_placed_against_the_local_interval() -> None:
    local = share_of(81, 263)  # 0.2553 to 0.3662
    assert compared_with(local, 0.20) == "higher than England"
    assert compared_with(local, 0.40) == "lower than England"
    assert compared_with(local, 0.30) == "similar"
    assert compared_with(local, 0.2553) == "similar"  # on the bound is inside
    assert compared_with(share_of(1, 3), 0.5) is None  # too few to compare
    assert compared_with(local, None) is None

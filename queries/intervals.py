"""Shares of small counts and their 95% confidence intervals.

CDOP tables hold tens of deaths, where the textbook interval (p ± 1.96 se)
strays below 0 or above 1 and is too narrow near them; Wilson's score
interval stays inside [0, 1] and keeps close to its nominal coverage there
(Newcombe 1998), so it is the one interval the dashboard shows.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

Z_95 = 1.96  # two-sided 95%
# Fewer than this many in the denominator: the share says so instead of a
# figure (the published tables' "<5" rule, seed 004 and the issue's windows).
MIN_DENOMINATOR = 5


def wilson_interval(successes: int, trials: int, z: float = Z_95) -> tuple[float, float] | None:
    """Wilson's (1927) score interval for ``successes`` out of ``trials``, without
    continuity correction: (low, high) as proportions. None when ``trials`` is 0
    (no share, so no interval); a count outside 0..trials is refused."""
    if isinstance(successes, bool) or isinstance(trials, bool):
        raise TypeError("counts must be whole numbers, not booleans")
    if not (isinstance(successes, int) and isinstance(trials, int)):
        raise TypeError("counts must be whole numbers")
    if trials < 0 or not 0 <= successes <= trials:
        raise ValueError(f"{successes} of {trials} is not a count and its total")
    if not z > 0:
        raise ValueError("z must be positive")
    if trials == 0:
        return None
    p = successes / trials
    z2 = z * z
    denominator = 1 + z2 / trials
    centre = (p + z2 / (2 * trials)) / denominator
    half = z / denominator * math.sqrt(p * (1 - p) / trials + z2 / (4 * trials * trials))
    # 0 of n and n of n are exact at their bound; clamp rounding noise only
    low = 0.0 if successes == 0 else max(0.0, centre - half)
    high = 1.0 if successes == trials else min(1.0, centre + half)
    return low, high


@dataclass(frozen=True)
class Share:
    """``count`` of ``total`` as a share with its Wilson 95% interval; the
    share and interval are None when the total is under MIN_DENOMINATOR."""

    count: int
    total: int
    share: float | None
    low: float | None
    high: float | None

    @property
    def too_few(self) -> bool:
        return self.share is None


def share_of(count: int, total: int) -> Share:
    if total < MIN_DENOMINATOR:
        wilson_interval(count, total)  # still refuses a count that cannot be
        return Share(count, total, None, None, None)
    low, high = wilson_interval(count, total)  # type: ignore[misc]  # total > 0 here
    return Share(count, total, count / total, low, high)


def compared_with(local: Share, england: float | None) -> str | None:
    """Where England's share lies against the local share's interval: 'higher
    than England' when the whole interval is above England's share, 'lower
    than England' when below, 'similar' when England lies inside; None when
    either has no share."""
    if local.low is None or local.high is None or england is None:
        return None
    if england < local.low:
        return "higher than England"
    if england > local.high:
        return "lower than England"
    return "similar"

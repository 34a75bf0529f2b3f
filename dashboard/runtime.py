"""Process settings for a web worker, applied once the app is built."""

from __future__ import annotations

import atexit
import gc

# Python's default collects the youngest generation every 700 allocations; a
# page builds tens of thousands of short-lived objects, so collections ran
# several times per request. Fewer, larger collections cost less in all.
GC_THRESHOLDS = (50_000, 20, 100)


def tune_worker() -> None:
    """Move everything built at start-up out of the collector's way (it lives
    for the process), and collect the young generation less often."""
    gc.collect()
    gc.freeze()
    gc.set_threshold(*GC_THRESHOLDS)
    # at exit, let extension modules see their objects freed (else nanobind reports "leaks")
    atexit.register(gc.unfreeze)

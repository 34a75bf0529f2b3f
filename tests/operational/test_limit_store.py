"""The rate-limit counters kept in the operational store (operational.limit_store)."""

from __future__ import annotations

import subprocess
import sys
import time
from pathlib import Path

import pytest
from limits import RateLimitItemPerSecond
from limits.storage import storage_from_string
from limits.strategies import FixedWindowRateLimiter
from sqlalchemy import insert

from operational import tables as operational
from operational.limit_store import SCHEME, OperationalStorage

PROJECT = Path(__file__).resolve().parents[2]


def storage_at(url: str) -> OperationalStorage:
    storage = storage_from_string(f"{SCHEME}://", engine=operational.connect(url))
    assert isinstance(storage, OperationalStorage)
    return storage


def test_the_scheme_builds_the_storage_and_needs_an_engine(operational_url: str) -> None:
    assert storage_at(operational_url).check()
    with pytest.raises(ValueError, match="engine"):
        storage_from_string(f"{SCHEME}://")


@pytest.mark.parametrize("returning", [True, False], ids=["update-returning", "update-then-select"])
def test_increments_add_up_per_key(operational_url: str, returning: bool) -> None:
    storage = storage_at(operational_url)
    storage.engine.dialect.update_returning = returning  # a database without UPDATE ... RETURNING too
    assert storage.get("a") == 0
    assert storage.incr("a", 60) == 1
    assert storage.incr("a", 60, amount=250) == 251
    assert storage.incr("b", 60) == 1
    assert (storage.get("a"), storage.get("b")) == (251, 1)
    storage.clear("a")
    assert (storage.get("a"), storage.get("b")) == (0, 1)
    assert storage.reset() == 1
    assert storage.get("b") == 0


def test_a_window_expires_and_the_next_starts_from_the_new_amount(operational_url: str, monkeypatch) -> None:
    storage = storage_at(operational_url)
    now = [1_000_000.0]
    monkeypatch.setattr("operational.limit_store.time.time", lambda: now[0])
    storage.incr("k", 10, amount=7)
    assert storage.get_expiry("k") == 1_000_010.0
    now[0] += 9.5
    assert storage.incr("k", 10) == 8  # same window: its end does not move
    assert storage.get_expiry("k") == 1_000_010.0
    now[0] += 1
    assert storage.get("k") == 0  # the window has passed
    assert storage.get_expiry("k") == now[0]
    assert storage.incr("k", 10, amount=3) == 3
    assert storage.get_expiry("k") == now[0] + 10


def test_the_fixed_window_strategy_refuses_past_the_limit(operational_url: str) -> None:
    limiter = FixedWindowRateLimiter(storage_at(operational_url))
    item = RateLimitItemPerSecond(3, 60)
    assert [limiter.hit(item, "user-1") for _ in range(4)] == [True, True, True, False]
    assert limiter.hit(item, "user-2")  # someone else's counter
    assert limiter.get_window_stats(item, "user-1").remaining == 0


def test_two_engines_on_one_store_share_the_counts(operational_url: str) -> None:
    first, second = storage_at(operational_url), storage_at(operational_url)
    first.incr("shared", 60, amount=5)
    assert second.incr("shared", 60, amount=2) == 7
    assert first.get("shared") == 7


def test_processes_adding_at_once_lose_no_count(operational_url: str) -> None:
    """As gunicorn workers do: separate processes, each with its own engine, adding to one key."""
    storage_at(operational_url)  # tables made once, as the app does before its workers serve
    script = (
        "import sys; from operational import tables as operational\n"
        "from operational.limit_store import OperationalStorage\n"
        f"s = OperationalStorage(engine=operational.connect({operational_url!r}))\n"
        "for _ in range(100): s.incr('together', 600, amount=3)\n"
    )
    workers = [subprocess.Popen([sys.executable, "-c", script], cwd=PROJECT) for _ in range(3)]
    assert [worker.wait(timeout=120) for worker in workers] == [0, 0, 0]
    assert storage_at(operational_url).get("together") == 3 * 100 * 3


def test_a_key_made_between_another_workers_update_and_insert_is_added_to(operational_url: str, monkeypatch) -> None:
    """The race PostgreSQL allows (SQLite's write lock rules it out): both workers find no row, the
    other inserts first; this one's insert then fails, and it must add to theirs rather than fail."""
    storage, rival = storage_at(operational_url), storage_at(operational_url)
    real_add = OperationalStorage._add
    calls: list[str] = []

    def rival_inserts_first(db, key, expiry, amount):  # type: ignore[no-untyped-def]
        calls.append(key)
        if len(calls) == 1:  # our update found nothing, and meanwhile the rival made the row
            with rival.engine.begin() as other:
                other.execute(insert(operational.rate_limits).values(key=key, hits=4, expires_at=time.time() + 60))
            return None
        return real_add(db, key, expiry, amount)

    monkeypatch.setattr(OperationalStorage, "_add", staticmethod(rival_inserts_first))
    assert storage.incr("raced", 60, amount=2) == 6
    assert len(calls) == 2


BUDGET_KEY = "LIMITER/cdop/user-7/server-time/15000/10/second"


def batched_storage(url: str) -> OperationalStorage:
    storage = storage_from_string(f"{SCHEME}://", engine=operational.connect(url), batched_scopes=("server-time",))
    assert isinstance(storage, OperationalStorage)
    return storage


def test_a_batched_budget_is_written_once_enough_has_gathered_and_then_seen_by_other_workers(
    operational_url: str,
) -> None:
    from operational import limit_store

    worker, other = batched_storage(operational_url), batched_storage(operational_url)
    assert worker.get(BUDGET_KEY) == 0 and other.get(BUDGET_KEY) == 0  # both have read the store just now
    for _ in range(10):
        assert worker.incr(BUDGET_KEY, 10, amount=20) > 0
    assert worker.get(BUDGET_KEY) == 200  # this worker counts what it has not written yet
    assert storage_at(operational_url).get(BUDGET_KEY) == 0  # not in the store yet: under FLUSH_AMOUNT
    assert worker.incr(BUDGET_KEY, 10, amount=limit_store.FLUSH_AMOUNT) == 200 + limit_store.FLUSH_AMOUNT
    assert storage_at(operational_url).get(BUDGET_KEY) == 450  # written, all of it
    other._batches[BUDGET_KEY].read_at -= limit_store.FLUSH_SECONDS  # a second later for the other worker
    assert other.get(BUDGET_KEY) == 450


def test_a_batched_budget_is_written_after_flush_seconds_even_when_small(operational_url: str) -> None:
    from operational import limit_store

    worker = batched_storage(operational_url)
    worker.incr(BUDGET_KEY, 10, amount=5)  # the first charge finds no fresh read: written at once
    worker.incr(BUDGET_KEY, 10, amount=5)
    assert storage_at(operational_url).get(BUDGET_KEY) == 5
    worker._batches[BUDGET_KEY].read_at -= limit_store.FLUSH_SECONDS
    assert worker.incr(BUDGET_KEY, 10, amount=5) == 15
    assert storage_at(operational_url).get(BUDGET_KEY) == 15


def test_other_counters_are_written_at_once(operational_url: str) -> None:
    worker = batched_storage(operational_url)
    downloads = "LIMITER/cdop/user-7/download:downloads/20/1/minute"
    worker.incr(downloads, 60)
    assert storage_at(operational_url).get(downloads) == 1

"""The web workers' handle on the deaths store: cursors leased per request and reused."""

from __future__ import annotations

import shutil
import threading
from pathlib import Path

import duckdb
import pytest

from queries.deaths_store import IDLE_CURSORS, DeathsStore
from settings import Settings


@pytest.fixture
def store(tmp_path: Path, demo_settings: Settings) -> DeathsStore:
    path = tmp_path / "deaths.duckdb"
    shutil.copyfile(demo_settings.store_path, path)
    return DeathsStore(path)


def swap_in_a_copy(store: DeathsStore) -> None:
    """Replace the file as a load does (a new file renamed over it), and skip the once-a-second wait."""
    draft = store.path.with_name("draft.duckdb")
    shutil.copyfile(store.path, draft)
    draft.replace(store.path)
    store._checked = 0


def deaths(cursor: duckdb.DuckDBPyConnection) -> int:
    return int(cursor.execute("SELECT count(*) FROM report_facts").fetchone()[0])


def test_a_cursor_given_back_is_the_next_request_s(store: DeathsStore) -> None:
    first, give_back = store.lease()
    counted = deaths(first)
    give_back()
    second, give_back_again = store.lease()
    assert second is first and deaths(second) == counted  # still pointed at the store
    other, give_back_other = store.lease()
    assert other is not second  # one request's cursor is never another's at the same time
    give_back_again()
    give_back_other()


def test_cursors_on_a_replaced_file_are_not_reused(store: DeathsStore) -> None:
    old, give_back = store.lease()
    swap_in_a_copy(store)
    new, give_back_new = store.lease()
    assert new is not old
    give_back()  # handed back after the swap: closed, not kept
    give_back_new()
    again, give_back_again = store.lease()
    assert again is new
    with pytest.raises(duckdb.ConnectionException):
        old.execute("SELECT 1")
    give_back_again()


def test_a_cursor_kept_from_before_a_swap_is_closed_not_handed_out(store: DeathsStore) -> None:
    kept, give_back = store.lease()
    give_back()
    swap_in_a_copy(store)
    fresh, give_back_fresh = store.lease()
    assert fresh is not kept and deaths(fresh) > 0
    with pytest.raises(duckdb.ConnectionException):
        kept.execute("SELECT 1")
    give_back_fresh()


def test_only_a_few_idle_cursors_are_kept(store: DeathsStore) -> None:
    leases = [store.lease() for _ in range(IDLE_CURSORS + 3)]
    for _, give_back in leases:
        give_back()
    kept = [store.lease() for _ in range(IDLE_CURSORS + 3)]
    reused = {id(cursor) for cursor, _ in kept} & {id(cursor) for cursor, _ in leases}
    assert len(reused) == IDLE_CURSORS


def test_threads_never_share_a_leased_cursor(store: DeathsStore) -> None:
    seen: list[int] = []
    clashes: list[str] = []
    in_use: set[int] = set()
    lock = threading.Lock()

    def work() -> None:
        for _ in range(50):
            cursor, give_back = store.lease()
            with lock:
                if id(cursor) in in_use:
                    clashes.append("a cursor leased twice at once")
                in_use.add(id(cursor))
                seen.append(id(cursor))
            deaths(cursor)
            with lock:
                in_use.discard(id(cursor))
            give_back()

    threads = [threading.Thread(target=work) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert clashes == [] and len(seen) == 200
    assert len(set(seen)) <= 4 + IDLE_CURSORS  # reused, not one per request


def test_closing_the_store_closes_its_cursors_and_the_next_request_opens_it_again(store: DeathsStore) -> None:
    cursor, give_back = store.lease()
    counted = deaths(cursor)
    give_back()
    store.close()
    with pytest.raises(duckdb.ConnectionException):
        deaths(cursor)
    again, give_back_again = store.lease()
    assert again is not cursor and deaths(again) == counted
    give_back_again()

"""Counters (storage/counters.py) against the real server: window counts stay exact under 16
threads, and login tries are handed out by conditional updates, never more than allowed."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from pymongo.database import Database

from fhir_server.storage.counters import THROTTLE, LoginTries, WindowCounters
from tests.storage.races import THREADS, race

NOW = datetime.now(UTC).replace(microsecond=0)  # real time: the TTL monitor runs on it


@pytest.fixture(autouse=True)
def _fresh_now() -> None:
    """NOW taken again when each test starts: taken at import it is minutes old by the time a
    long run reaches this file, and the TTL monitor removes records that expire from it."""
    global NOW
    NOW = datetime.now(UTC).replace(microsecond=0)
EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


def test_count_hit_is_exact_under_threads(db: Database[Any]) -> None:
    counters = WindowCounters(db)
    counters.ensure_indexes()
    # from the test's own clock: NOW is taken at import, which a long parallel run leaves
    # minutes behind, and the TTL monitor then removes the counters mid-test
    expires = datetime.now(UTC).replace(microsecond=0) + timedelta(hours=1)
    for window in range(10):  # each window's first hits race to create its counter
        key = f"k@60:{window}"

        def hits(n: int, key: str = key) -> list[int]:
            return [counters.count_hit(key, expires) for _ in range(3)]

        counts = race(hits)
        seen = [c for row in counts for c in row]
        assert sorted(seen) == list(range(1, THREADS * 3 + 1)), window  # each count once
        stored = db[THROTTLE].find_one({"_id": key})
        assert stored is not None and stored["n"] == THREADS * 3, window
    doc = db[THROTTLE].find_one({"_id": "k@60:0"})
    assert doc is not None and doc["expires"] == expires  # set by the first hit only


def test_free_tries_under_threads(db: Database[Any]) -> None:
    tries = LoginTries(db)
    tries.ensure_indexes()
    race(lambda n: tries.ensure("acct:a|1.2.3.4", "acct:a", EPOCH))
    taken = race(lambda n: tries.claim_free_try("acct:a|1.2.3.4", NOW, 4,
                                                          NOW + timedelta(days=1)))
    assert taken.count(True) == 4
    state = tries.get("acct:a|1.2.3.4")
    assert state is not None and state.tries == 4 and state.stage == 0


def test_last_try_starts_one_wait(db: Database[Any]) -> None:
    tries = LoginTries(db)
    key, until = "acct:b|5.6.7.8", NOW + timedelta(minutes=1)
    tries.ensure(key, "acct:b", EPOCH)
    for _ in range(4):
        assert tries.claim_free_try(key, NOW, 4, NOW + timedelta(days=1))
    last = race(lambda n: tries.claim_last_try(key, NOW, 4, 0, until,
                                                         NOW + timedelta(days=1)))
    assert last.count(True) == 1
    state = tries.get(key)
    assert state is not None and (state.tries, state.stage) == (0, 1)
    assert state.until is not None and state.until.timestamp() == until.timestamp()
    assert not tries.claim_free_try(key, NOW, 4, NOW)  # waiting
    assert tries.claim_free_try(key, until, 4, until)  # the wait is over


def test_forget(db: Database[Any]) -> None:
    tries = LoginTries(db)
    for address in ("1", "2"):
        tries.ensure(f"acct:c|{address}", "acct:c", EPOCH)
    tries.ensure("acct:d|1", "acct:d", EPOCH)
    tries.delete("acct:c|1")
    assert tries.get("acct:c|1") is None and tries.get("acct:c|2") is not None
    tries.delete_subject("acct:c")
    assert tries.get("acct:c|2") is None and tries.get("acct:d|1") is not None

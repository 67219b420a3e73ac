"""JobRecords (storage/job_records.py) against the real server: conditional single-document
transitions of export jobs, and JobStore's timing over them (bulk/jobs.py)."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from pymongo.database import Database

from fhir_server.bulk.jobs import KEEP, STALE, ExportRequest, JobStore
from fhir_server.storage.job_records import JOBS, JobRecords
from tests.storage.records_db import own_database

T0 = datetime(2026, 12, 3, 10, 0, tzinfo=UTC)


@pytest.fixture()
def db(mongo_uri: str) -> Iterator[Database[Any]]:
    with own_database(mongo_uri) as database:
        yield database


@pytest.fixture()
def records(db: Database[Any]) -> JobRecords:
    return JobRecords(db)


def _accepted(records: JobRecords, job_id: str = "j1", at: datetime = T0) -> None:
    records.insert({"_id": job_id, "status": "accepted", "created": at, "heartbeat": at,
                    "progress": "accepted"})


def test_insert_get(records: JobRecords, db: Database[Any]) -> None:
    _accepted(records)
    job = records.get("j1")
    assert job is not None and job["status"] == "accepted"
    assert records.get("nope") is None
    assert db[JOBS].count_documents({}) == 1


def test_claim_only_accepted_or_stale(records: JobRecords) -> None:
    _accepted(records)
    claimed = records.claim("j1", "w1", T0, T0 - STALE)
    assert claimed is not None  # the job after the change
    assert (claimed["status"], claimed["worker"], claimed["progress"]) == (
        "in-progress", "w1", "started")
    later = T0 + timedelta(seconds=10)
    assert records.claim("j1", "w2", later, later - STALE) is None  # fresh heartbeat: kept
    much_later = T0 + STALE + timedelta(seconds=1)
    taken = records.claim("j1", "w2", much_later, much_later - STALE)
    assert taken is not None and taken["worker"] == "w2"  # stale heartbeat: taken over
    assert records.claim("unknown", "w1", T0, T0) is None


def test_claim_race_has_one_winner(records: JobRecords) -> None:
    _accepted(records)
    winners: list[str] = []
    lock = threading.Lock()

    def attempt(worker: str) -> None:
        if records.claim("j1", worker, T0, T0 - STALE) is not None:
            with lock:
                winners.append(worker)

    threads = [threading.Thread(target=attempt, args=(f"w{n}",)) for n in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(winners) == 1
    job = records.get("j1")
    assert job is not None and job["worker"] == winners[0]


def test_beat_complete_fail_only_by_the_running_worker(records: JobRecords) -> None:
    _accepted(records)
    records.claim("j1", "w1", T0, T0 - STALE)
    later = T0 + timedelta(seconds=5)
    assert records.beat("j1", "w1", later, "1/2 types done")
    assert not records.beat("j1", "w2", later, "not mine")
    job = records.get("j1")
    assert job is not None and job["progress"] == "1/2 types done"
    assert job["heartbeat"] == later
    assert not records.complete("j1", "w2", [], [], later, later + KEEP)
    records.fail("j1", "w2", "not mine", later + KEEP)
    job = records.get("j1")
    assert job is not None and job["status"] == "in-progress"
    output = [{"type": "Patient", "url": "x"}]
    assert records.complete("j1", "w1", output, [], later, later + KEEP)
    job = records.get("j1")
    assert job is not None
    assert (job["status"], job["output"], job["expires"]) == ("completed", output, later + KEEP)
    assert not records.beat("j1", "w1", later, "after completion")
    records.fail("j1", "w1", "too late", later)  # a completed job does not fail
    job = records.get("j1")
    assert job is not None and job["status"] == "completed"


def test_fail(records: JobRecords) -> None:
    _accepted(records)
    records.claim("j1", "w1", T0, T0 - STALE)
    records.fail("j1", "w1", "boom", T0 + KEEP)
    job = records.get("j1")
    assert job is not None
    assert (job["status"], job["message"], job["expires"]) == ("error", "boom", T0 + KEEP)


def test_cancel_and_expiry(records: JobRecords) -> None:
    _accepted(records)
    records.claim("j1", "w1", T0, T0 - STALE)
    before = records.cancel("j1", T0)
    assert before is not None and before["status"] == "in-progress"  # the job as it was
    assert records.cancel("j1", T0) is None  # already cancelled
    assert records.cancel("unknown", T0) is None
    assert not records.beat("j1", "w1", T0, "cancelled meanwhile")
    assert not records.complete("j1", "w1", [], [], T0, T0 + KEEP)
    assert records.expired(T0) == []  # expires == now: not yet past
    later = T0 + timedelta(seconds=1)
    assert records.expired(later) == [{"_id": "j1"}]
    records.mark_expired("j1")
    assert records.expired(later) == []
    assert records.cancel("j1", later) is None  # expired: not cancellable


def test_job_store_timing(records: JobRecords) -> None:
    now = [T0]
    jobs = JobStore(records, lambda: now[0])
    job = jobs.create(ExportRequest(level="system", types=["Patient"], request="x/$export"))
    assert job["transaction_time"] == T0 and records.get(job["_id"]) is not None
    assert jobs.claim(job["_id"], "w1") is not None
    assert not jobs.needs_worker(job | {"status": "in-progress"})
    assert jobs.beat(job["_id"], "w1", "p" * 200)
    stored = jobs.get(job["_id"])
    assert stored is not None and stored["progress"] == "p" * 99
    now[0] = T0 + STALE + timedelta(seconds=1)
    stored = jobs.get(job["_id"])
    assert stored is not None and jobs.needs_worker(stored)
    assert jobs.claim(job["_id"], "w2") is not None
    assert not jobs.beat(job["_id"], "w1", "the old worker stops")
    jobs.fail(job["_id"], "w2", "m" * 2000)
    stored = jobs.get(job["_id"])
    assert stored is not None and stored["status"] == "error"
    assert len(stored["message"]) == 1000 and stored["expires"] == now[0] + KEEP
    now[0] += KEEP + timedelta(seconds=1)
    assert jobs.expired() == [{"_id": job["_id"]}]

"""The AuditEvent spool: events survive failing stores, crashes and database restarts, each
stored exactly once (ids are given at enqueue time; storing an id again is a no-op)."""

from __future__ import annotations

import logging
import subprocess
import sys
import threading
import uuid
from collections import Counter
from datetime import UTC, datetime
from functools import partial
from pathlib import Path
from typing import Any

import orjson
import pytest
from pymongo import MongoClient

from fhir_server import create_app
from fhir_server.auth import audit_spool
from fhir_server.auth.audit import AuditSink, insert_audit_events
from fhir_server.embedded import EmbeddedStore
from fhir_server.settings import Settings, utc_now
from fhir_server.storage.mongo import HISTORY, MongoResourceStore

FAST = (0.01, 0.05)  # backoff for tests: retried quickly, still not a busy loop
TIMEOUT = 60.0


def _event(n: int) -> dict[str, Any]:
    return {"resourceType": "AuditEvent", "recorded": "2026-12-02T10:00:00.000+00:00",
            "outcome": "0", "entity": [{"description": f"event {n}"}]}


class FakeStore:
    """Keyed by id like the database: a second insert of an id is counted, not stored."""

    def __init__(self, failures: int = 0) -> None:
        self.failures = failures
        self.attempts = 0
        self.stored: dict[str, dict[str, Any]] = {}
        self.inserts: Counter[str] = Counter()
        self.failed = threading.Event()

    def __call__(self, batch: list[dict[str, Any]]) -> None:
        self.attempts += 1
        if self.failures:
            self.failures -= 1
            self.failed.set()
            raise ConnectionError("database down")
        for event in batch:
            self.inserts[event["id"]] += 1
            self.stored.setdefault(event["id"], event)


def _flush(sink: AuditSink) -> None:
    """sink.flush() with a generous timeout, so a bug fails the test instead of hanging it."""
    done = threading.Thread(target=sink.flush, daemon=True)
    done.start()
    done.join(TIMEOUT)
    assert not done.is_alive(), "audit sink did not flush"


def _sink(store: Any, spool: Path) -> AuditSink:
    return AuditSink(store, utc_now, linger=0.01, spool_dir=spool, backoff=FAST)


def test_events_survive_a_failing_store(tmp_path: Path) -> None:
    store = FakeStore(failures=4)
    sink = _sink(store, tmp_path)
    events = [_event(n) for n in range(20)]
    for event in events:
        sink.record(event)
    _flush(sink)
    assert store.attempts > 4
    assert set(store.stored) == {e["id"] for e in events}
    assert max(store.inserts.values()) == 1
    assert sink.spool is not None and sink.spool.files() == []  # all stored: nothing kept
    sink.close()


def test_a_crash_replays_exactly_the_unstored_events(tmp_path: Path,
                                                     monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(audit_spool, "SEGMENT_EVENTS", 3)  # the events span several segments
    first = FakeStore()
    sink = _sink(first, tmp_path)
    stored = [_event(n) for n in range(5)]
    for event in stored:
        sink.record(event)
    _flush(sink)
    first.failures = 10**6  # the database goes away
    unstored = [_event(n) for n in range(5, 12)]
    for event in unstored:
        sink.record(event)
    assert first.failed.wait(TIMEOUT)
    assert sink.spool is not None and len(sink.spool.files()) >= 3
    sink.close(drain=False)  # what a killed worker leaves behind
    second = FakeStore()
    replaying = _sink(second, tmp_path)
    _flush(replaying)
    assert set(first.stored) == {e["id"] for e in stored}
    assert set(second.stored) == {e["id"] for e in unstored}
    assert max(second.inserts.values()) == 1
    replaying.close()
    assert list(tmp_path.glob("*.jsonl")) == []


def test_a_live_workers_spool_is_not_taken(tmp_path: Path) -> None:
    down = FakeStore(failures=10**6)
    alive = _sink(down, tmp_path)
    alive.record(_event(1))
    assert down.failed.wait(TIMEOUT)
    other = FakeStore()
    starting = _sink(other, tmp_path)
    _flush(starting)
    assert other.attempts == 0
    assert alive.spool is not None and len(alive.spool.files()) == 1
    alive.close(drain=False)
    starting.close()


def test_torn_and_acknowledged_lines_of_an_orphan(tmp_path: Path,
                                                  caplog: pytest.LogCaptureFixture) -> None:
    events = [{**_event(n), "id": f"e{n}"} for n in range(3)]
    lines = [orjson.dumps(e) for e in events] + [orjson.dumps({"ack": ["e0"]})]
    torn = orjson.dumps({**_event(9), "id": "e9"})[:25]  # power loss in the middle of a write
    (tmp_path / "999-dead.000001.jsonl").write_bytes(b"\n".join(lines) + b"\n" + torn)
    store = FakeStore()
    with caplog.at_level(logging.WARNING, logger="fhir_server.auth.audit_spool"):
        sink = _sink(store, tmp_path)
        _flush(sink)
    assert sorted(store.stored) == ["e1", "e2"]
    assert "unreadable line skipped" in caplog.text
    assert list(tmp_path.glob("*.jsonl")) == []
    sink.close()


@pytest.fixture()
def mongo_store(mongo_uri: str) -> Any:
    """A MongoResourceStore on a database of its own."""
    client: MongoClient[dict[str, Any]] = MongoClient(mongo_uri)
    name = f"test_spool_{uuid.uuid4().hex[:8]}"
    yield MongoResourceStore(client[name], lambda: datetime.now(UTC))
    client.drop_database(name)
    client.close()


def test_storing_an_id_twice_is_a_no_op(mongo_store: MongoResourceStore) -> None:
    events = [{**_event(n), "id": str(uuid.uuid4())} for n in range(4)]
    insert_audit_events(mongo_store, events[:2])
    mongo_store.db["AuditEvent"].delete_one({"_id": events[1]["id"]})  # half done
    insert_audit_events(mongo_store, events)
    insert_audit_events(mongo_store, events)
    assert sorted(d["_id"] for d in mongo_store.db["AuditEvent"].find()) == sorted(
        e["id"] for e in events)
    # single-version: no history copy (storage/single_version.py), vread from the current one
    assert mongo_store.db[HISTORY].count_documents({"t": "AuditEvent"}) == 0
    assert mongo_store.vread("AuditEvent", events[3]["id"], 1).resource is not None


def test_stored_but_unacknowledged_events_are_not_stored_twice(
        tmp_path: Path, mongo_store: MongoResourceStore) -> None:
    lost_reply = threading.Event()

    def stored_then_connection_lost(batch: list[dict[str, Any]]) -> None:
        insert_audit_events(mongo_store, batch)
        lost_reply.set()
        raise ConnectionError("connection reset after the insert")

    sink = _sink(stored_then_connection_lost, tmp_path)
    events = [_event(n) for n in range(6)]
    for event in events:
        sink.record(event)
    assert lost_reply.wait(TIMEOUT)
    sink.close(drain=False)
    replaying = _sink(partial(insert_audit_events, mongo_store), tmp_path)
    _flush(replaying)
    ids = [d["_id"] for d in mongo_store.db["AuditEvent"].find()]
    assert sorted(ids) == sorted(e["id"] for e in events)
    replaying.close()


def test_every_audit_event_arrives_across_a_database_restart(
        tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    database = EmbeddedStore(tmp_path / "data", log_path=tmp_path / "db.log").start()
    try:
        settings = Settings.from_env(
            {}, mongodb_uri=database.uri, database="audit_restart", auth_required=False,
            audit="all", audit_spool_dir=str(tmp_path / "spool"), db_timeout_ms=500,
            shc_key_dir=str(tmp_path / "keys"), auth_key_dir=str(tmp_path / "auth"),
            sms_gateway=f"file:{tmp_path}/sms.jsonl", sms_retry_seconds=0,
            load_conformance=False)
        app = create_app(settings)
        svc = app.extensions["fhir"].internal()
        audit: AuditSink = svc.components["auth"].audit
        audit.store_events = partial(insert_audit_events, svc.store.store)  # ids kept
        audit.backoff = (0.1, 1.0)
        recorded: list[str] = []
        record = audit.record

        def spied(event: dict[str, Any]) -> None:
            record(event)
            recorded.append(event["id"])

        audit.record = spied  # type: ignore[method-assign]
        web = app.test_client()
        created = web.post("/Patient", json={"resourceType": "Patient", "gender": "male"})
        path = f"/Patient/{created.get_json()['id']}"
        statuses = [web.get(path).status_code for _ in range(6)]
        database.stop()
        with caplog.at_level(logging.WARNING, logger="fhir_server.auth.audit"):
            statuses += [web.get(path).status_code for _ in range(6)]
            during = len(recorded)
            database.start()
            statuses += [web.get(path).status_code for _ in range(7)]
            _flush(audit)
        ids = [d["_id"] for d in svc.store.store.db["AuditEvent"].find()]
        assert sorted(ids) == sorted(recorded)
        assert len(recorded) == 20 and during == 13 and 503 in statuses
        assert "could not store" in caplog.text  # the database really was away
        assert audit.spool is not None and audit.spool.files() == []
        audit.close()
    finally:
        database.stop()


KILLED_WORKER = """
import sys, threading
from fhir_server.auth import audit_spool
from fhir_server.auth.audit import AuditSink
from fhir_server.settings import utc_now
sink = AuditSink(lambda batch: threading.Event().wait(), utc_now, spool_dir=sys.argv[1])
for n in range(20):
    sink.record({"resourceType": "AuditEvent", "id": f"k{n}", "outcome": "0"})
print("recorded", flush=True)
threading.Event().wait()
"""


def test_events_of_a_killed_worker_are_replayed(tmp_path: Path) -> None:
    worker = subprocess.Popen([sys.executable, "-c", KILLED_WORKER, str(tmp_path)],
                              stdout=subprocess.PIPE, text=True)
    try:
        assert worker.stdout is not None and worker.stdout.readline() == "recorded\n"
    finally:
        worker.kill()  # SIGKILL: no flush, no clean-up; the kernel releases its lock
        worker.wait(TIMEOUT)
    store = FakeStore()
    sink = _sink(store, tmp_path)
    _flush(sink)
    assert sorted(store.stored) == sorted(f"k{n}" for n in range(20))
    assert max(store.inserts.values()) == 1
    sink.close()

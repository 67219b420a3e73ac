"""Issue 16 point 3d, the SMS outbox: `kill -9` of `fhir-server reminders` while it is handing a
batch of texts to the SMS provider, then the same command again. The job completes (every
booked appointment gets its in-app notice once and its text), and delivery is at least once with
the duplicate window the outbox promises (notify/outbox.py): a text is given to the provider a
second time only if it was the one in flight — taken by the provider, not yet marked sent — when
the process died; at most one, since a run sends one text at a time. A third run sends nothing.

Before the fix, the texts claimed by the killed run stayed `sending` for ever: neither the rerun
(their keys were known) nor the server's retry loop (it only took `pending` ones) sent them.
"""

from __future__ import annotations

import io
import os
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from pymongo import MongoClient

from fhir_server.auth.principal import INTERNAL_PRINCIPAL, acting_as
from fhir_server.scheduling.notices import NOTICE_SYSTEM, VIETNAM
from fhir_server.scheduling.reminders import run_command
from tests.faults.gateway import FakeGateway
from tests.faults.processes import kill_group, wait_for

PEOPLE = 120
KILL_AFTER = 25  # texts the provider has taken when the run is killed


@pytest.fixture()
def gateway() -> Iterator[FakeGateway]:
    """The fake SMS provider."""
    provider = FakeGateway(delay=0.05)
    yield provider
    provider.close()


def _book_day(app: Flask, day: date) -> None:
    """PEOPLE Patients with phones, each with one booked Appointment on `day` (setup below the
    Repository, as bench/bench_campaign.py does)."""
    backend = app.extensions["fhir"].internal().store.store
    start = datetime.combine(day, datetime.min.time(), VIETNAM) + timedelta(hours=8)
    with acting_as(INTERNAL_PRINCIPAL):
        people = backend.create_many("Patient", [
            {"resourceType": "Patient", "name": [{"text": f"Hẹn {n}"}],
             "telecom": [{"system": "phone", "value": f"+8497{n:07d}"}]} for n in range(PEOPLE)])
        backend.create_many("Appointment", [
            {"resourceType": "Appointment", "status": "booked",
             "start": (start + timedelta(minutes=n)).isoformat(),
             "end": (start + timedelta(minutes=n + 5)).isoformat(),
             "participant": [{"actor": {"reference": f"Patient/{p.id}"}, "status": "accepted"}]}
            for n, p in enumerate(people)])


def _reminders(env: dict[str, str], day: date, log: Path) -> subprocess.Popen[bytes]:
    return subprocess.Popen([sys.executable, "-m", "fhir_server.cli", "reminders", "--date",
                             day.isoformat()], stdout=log.open("ab"), stderr=subprocess.STDOUT,
                            env=env, start_new_session=True)


def _outbox(mongo_uri: str, database: str) -> dict[str, str]:
    """phone -> status of its text in the outbox."""
    with MongoClient(mongo_uri) as client:
        return {doc["to"]: doc["status"] for doc in client[database]["_outbox"].find()}


def test_kill_9_reminders_mid_batch_then_rerun(make_app: Callable[..., Flask], mongo_uri: str,
                                              gateway: FakeGateway, tmp_path: Path) -> None:
    app = make_app()
    database = app.extensions["fhir"].settings.database
    day = datetime.now(VIETNAM).date() + timedelta(days=3)
    _book_day(app, day)
    env: dict[str, Any] = {**os.environ, "MONGODB_URI": mongo_uri, "FHIR_DATABASE": database,
                           "FHIR_HOME": str(tmp_path / "home"), "FHIR_SMS_GATEWAY": gateway.url,
                           "FHIR_LOAD_CONFORMANCE": "0", "FHIR_AUDIT": "off",
                           "FHIR_DB_TIMEOUT_MS": "10000", "FHIR_SMS_LEASE_SECONDS": "2"}
    log = tmp_path / "reminders.log"

    first = _reminders(env, day, log)
    wait_for(lambda: first.poll() is None and gateway.count() >= KILL_AFTER or
             (first.poll() is not None and pytest.fail(log.read_text()[-2000:])), 120,
             f"{KILL_AFTER} texts handed to the provider")
    kill_group(first)
    taken_before = gateway.per_phone()
    at_kill = _outbox(mongo_uri, database)
    in_flight = {phone for phone in taken_before if at_kill.get(phone) == "sending"}
    assert len(taken_before) < PEOPLE, "the run finished before the kill"
    assert len(in_flight) <= 1, in_flight  # marked sent one by one

    time.sleep(2.5)  # the killed run's claims outlive their lease (FHIR_SMS_LEASE_SECONDS=2)
    second = subprocess.run([sys.executable, "-m", "fhir_server.cli", "reminders", "--date",
                             day.isoformat()], env=env, capture_output=True, text=True,
                            timeout=180)
    assert second.returncode == 0, second.stdout + second.stderr
    counts = gateway.per_phone()
    assert len(counts) == PEOPLE  # every appointment's text went out
    twice = {phone for phone, n in counts.items() if n > 1}
    assert twice <= in_flight and max(counts.values()) <= 2, (twice, in_flight)
    assert set(_outbox(mongo_uri, database).values()) == {"sent"}

    client = app.test_client()
    notices = client.get(f"/Communication?identifier={NOTICE_SYSTEM}|&_count=500").get_json()
    keys = [e["resource"]["identifier"][0]["value"] for e in notices["entry"]]
    assert len(keys) == PEOPLE == len(set(keys))  # one in-app notice per appointment

    before, out = gateway.count(), io.StringIO()  # a third run (in this process) sends nothing
    assert run_command(app.extensions["fhir"], day, out) == 0
    assert "0 new notice(s), 0 SMS queued" in out.getvalue()
    assert gateway.count() == before and set(_outbox(mongo_uri, database).values()) == {"sent"}
    print(f"reminders kill: {len(taken_before)} texts taken before the kill, in flight "
          f"{len(in_flight)}, sent twice {len(twice)}")

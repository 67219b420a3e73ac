"""Issue 16 point 3c: `kill -9` of the database server (SecantusDB's process group) while
clients post transaction Bundles and single creates through the app, then a restart on the same
data directory and port. No acknowledged write is lost — every Bundle answered 200 and every
Patient answered 201 is there after the restart — and no transaction is partial. Why: the
embedded store runs with `--sync-on-commit` (each commit is on disk before it is acknowledged,
like MongoDB's journal with `j: true` / majority on a replica set), the app answers only after
the commit returns, and during the outage requests end at once with 503 + Retry-After (never a
500, never a hang).
"""

from __future__ import annotations

import threading
import uuid
from typing import Any

from flask import Flask

from fhir_server.embedded import EmbeddedStore
from tests.api.helpers import patient
from tests.faults.conftest import BASE
from tests.faults.ingest import Ingest, check_ingest
from tests.faults.processes import kill_store, wait_for

SINGLE = "urn:test:fault-single"


class Singles:
    """One client creating Patients one by one; the ids answered 201."""

    def __init__(self, app: Flask) -> None:
        self.client, self.created = app.test_client(), {}  # id -> identifier value
        self.statuses: list[int] = []
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._thread.start()

    def _run(self) -> None:
        while not self._stop.is_set():
            value = uuid.uuid4().hex
            answer = self.client.post("/Patient", json=patient(identifier=[
                {"system": SINGLE, "value": value}]), headers={"Content-Type":
                                                               "application/fhir+json"})
            self.statuses.append(answer.status_code)
            if answer.status_code == 201:
                self.created[answer.get_json()["id"]] = value
            else:
                self._stop.wait(0.1)

    def stop(self) -> None:
        """Stop after the current request."""
        self._stop.set()
        self._thread.join(timeout=60)


def test_kill_9_database_mid_ingest(store: EmbeddedStore, store_app: Flask) -> None:
    def post(body: dict[str, Any]) -> tuple[int, dict[str, Any] | None]:
        answer = store_app.test_client().post("/", json=body, headers={
            "Content-Type": "application/fhir+json"})
        return answer.status_code, answer.get_json() if answer.status_code == 200 else None

    ingest, singles = Ingest(post).start(), Singles(store_app)
    try:
        wait_for(lambda: len(ingest.acknowledged()) >= 12 and len(singles.created) >= 5, 90,
                 "acknowledged writes before the kill")
        kill_store(store)
        wait_for(lambda: ingest.statuses[503] >= 4 and 503 in singles.statuses, 30,
                 "503s while the database is gone")
    finally:
        ingest.stop()
        singles.stop()
    assert set(ingest.statuses) <= {200, 503}, ingest.statuses
    assert set(singles.statuses) <= {201, 503}, singles.statuses

    store.start()  # the same data directory and port
    client = store_app.test_client()
    wait_for(lambda: client.get("/readyz").status_code == 200, 20, "the database back")
    counts = check_ingest(ingest, lambda path: client.get(path).get_json(), BASE)
    for patient_id, value in singles.created.items():
        read = client.get(f"/Patient/{patient_id}")
        assert read.status_code == 200, f"acknowledged Patient/{patient_id} lost"
        assert read.get_json()["identifier"][0]["value"] == value
    print(f"database kill: bundles {counts}, single creates acknowledged "
          f"{len(singles.created)}")

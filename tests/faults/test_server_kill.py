"""Issue 16 point 3b: `kill -9` of the server (the gunicorn master and its workers, one
SIGKILL to the process group) while four clients post transaction Bundles (FHIR R4
http.html#transaction). After a restart: no partial transaction — every Bundle sent, answered or
not, is wholly present or wholly absent, entry by entry — and every acknowledged Bundle (a 200
the client received) is present with exactly the resources its response named. Why: a Bundle is
one MongoDB multi-document transaction, committed (durably) before the 200 is written; a worker
killed before the commit leaves an uncommitted transaction the database discards.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import requests
from pymongo import MongoClient

from tests.faults.ingest import Ingest, check_ingest, tagged_bundle
from tests.faults.processes import Served, serve_env, wait_for

ACKS_BEFORE_KILL = 12


@pytest.fixture()
def served(mongo_uri: str, tmp_path: Path) -> Iterator[Served]:
    """`fhir-server serve` (2 workers x 4 threads) on the session's database server."""
    database = f"kill_{uuid.uuid4().hex[:8]}"
    server = Served(serve_env(tmp_path, mongo_uri, database), tmp_path / "serve.log")
    try:
        yield server.start()
    finally:
        server.stop()
        with MongoClient(mongo_uri) as client:
            client.drop_database(database)


def _poster(server: Served) -> Any:
    def post(body: dict[str, Any]) -> tuple[int, dict[str, Any] | None]:
        try:
            answer = requests.post(f"{server.base}/", json=body, timeout=60,
                                   headers={"Content-Type": "application/fhir+json"})
        except requests.RequestException:
            return 0, None  # the connection died with the server: not acknowledged
        return answer.status_code, answer.json() if answer.status_code == 200 else None
    return post


def test_kill_9_during_transaction_ingest(served: Served) -> None:
    ingest = Ingest(_poster(served)).start()
    try:
        wait_for(lambda: len(ingest.acknowledged()) >= ACKS_BEFORE_KILL, 60,
                 f"{ACKS_BEFORE_KILL} acknowledged Bundles")
        served.kill()  # mid-stream: every client has a request in flight or about to be
        wait_for(lambda: ingest.statuses[0] >= 4, 20, "the clients to see the server gone")
    finally:
        ingest.stop()
    assert set(ingest.statuses) <= {0, 200}, ingest.statuses  # never a 4xx/5xx for a valid Bundle

    served.start()
    counts = check_ingest(ingest, lambda path: requests.get(served.base + path, timeout=30)
                          .json(), served.base)
    assert counts["acknowledged"] >= ACKS_BEFORE_KILL
    print(f"server kill: bundles {counts}")
    # the restarted server takes the same stream (the shared Organization included)
    after = requests.post(f"{served.base}/", json=tagged_bundle("after", ingest.org_code),
                          headers={"Content-Type": "application/fhir+json"}, timeout=60)
    assert after.status_code == 200, after.text
    assert after.json()["entry"][0]["response"]["status"] == "200 OK"  # found, not created

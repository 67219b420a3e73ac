"""Issue 16 point 3a: the database unreachable, then restarting, then back. Requests fail fast
(server selection bounded by FHIR_DB_TIMEOUT_MS) with 503 OperationOutcome + Retry-After — reads,
searches, writes and transaction Bundles alike — and the same app, never restarted, serves the
same data again once the database is back on its port and data directory.

tests/storage/test_db_down.py covers the first half for reads; this adds writes, transactions,
the latency bound for each, and the recovery.
"""

from __future__ import annotations

import time
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient

from fhir_server.embedded import EmbeddedStore
from tests.api.helpers import patient
from tests.api.test_transaction import bundle, entry, immunization, urn
from tests.faults.processes import kill_store, wait_for

BOUND = 4.0  # seconds: the timeout plus the request's own work, on a loaded 2-core machine


def _transaction() -> dict[str, Any]:
    pat = urn()
    return bundle(entry("POST", "Patient", patient(), pat),
                  entry("POST", "Immunization", immunization(pat)))


def _requests(known: str) -> list[tuple[str, str, Any]]:
    """(method, path, body): a read, a search, a create, an update, a transaction, readiness."""
    return [("GET", f"/Patient/{known}", None), ("GET", "/Patient?family=nguyen", None),
            ("POST", "/Patient", patient()),
            ("PUT", f"/Patient/{known}", {**patient(), "id": known}),
            ("POST", "/", _transaction()), ("GET", "/readyz", None)]


def _send(client: FlaskClient, method: str, path: str, body: Any) -> Any:
    return client.open(path, method=method, json=body,
                       headers={"Content-Type": "application/fhir+json"} if body else {})


def _all_fail_fast(client: FlaskClient, known: str) -> dict[str, float]:
    took = {}
    for method, path, body in _requests(known):
        started = time.monotonic()
        response = _send(client, method, path, body)
        elapsed = time.monotonic() - started
        assert response.status_code == 503, (method, path, response.get_json())
        assert response.headers["Retry-After"].isdigit(), (method, path)
        outcome = response.get_json()
        if path != "/readyz":
            assert outcome["resourceType"] == "OperationOutcome", outcome
            assert outcome["issue"][0]["code"] == "transient", outcome
        assert elapsed < BOUND, f"{method} {path} took {elapsed:.1f} s with the database down"
        took[f"{method} {path.split('?')[0][:9]}"] = round(elapsed, 2)
    return took


@pytest.mark.parametrize("how", ["stopped", "killed"])
def test_outage_fails_fast_then_the_same_app_recovers(store: EmbeddedStore,
                                                      store_app: Flask, how: str) -> None:
    client = store_app.test_client()
    created = client.post("/Patient", json=patient(family="Trần"),
                          headers={"Content-Type": "application/fhir+json"})
    assert created.status_code == 201
    known, before = created.get_json()["id"], created.get_json()
    assert _send(client, "POST", "/", _transaction()).status_code == 200

    (store.stop if how == "stopped" else lambda: kill_store(store))()
    took = _all_fail_fast(client, known)
    assert client.get("/healthz").status_code == 200  # the process itself is alive

    store.start()  # the same port and data directory; the app is not restarted
    restarted = time.monotonic()
    back = wait_for(lambda: (r := client.get(f"/Patient/{known}")).status_code == 200 and r,
                    15, "the app to reach the restarted database")
    print(f"database {how}: 503 after {took} s; served again "
          f"{time.monotonic() - restarted:.2f} s after the store answered")
    assert back.get_json() == before  # the data written before the outage
    assert client.get("/readyz").status_code == 200
    again = client.post("/Patient", json=patient(), headers={"Content-Type":
                                                             "application/fhir+json"})
    assert again.status_code == 201
    assert _send(client, "POST", "/", _transaction()).status_code == 200
    found = client.get("/Patient?family=tran").get_json()
    assert [e["resource"]["id"] for e in found["entry"]] == [known]

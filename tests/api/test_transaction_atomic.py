"""Atomicity and isolation of transactions under concurrency (FHIR R4 http.html#transaction:
"all or nothing"; the server's MongoDB multi-document transactions; write conflicts retried)."""

from __future__ import annotations

import threading
import uuid
from typing import Any

from flask import Flask

from tests.api.helpers import created_id, patient, post
from tests.api.test_transaction import bundle, entry, immunization, send, urn

SHOTS = 4


def _shots_bundle(run: str) -> dict[str, Any]:
    pat = urn()
    tagged = [{"system": "urn:test:run", "value": run}]
    return bundle(entry("POST", "Patient", patient(identifier=tagged), pat),
                  *(entry("POST", "Immunization", immunization(pat, identifier=tagged))
                    for _ in range(SHOTS)))


# http.html#transaction: a concurrent reader never sees part of a transaction
def test_reader_never_sees_half_a_transaction(app: Flask) -> None:
    run = uuid.uuid4().hex
    seen: set[tuple[int, int]] = set()
    done = threading.Event()

    def reader() -> None:
        client = app.test_client()
        while not done.is_set():
            shots = client.get(f"/Immunization?identifier=urn:test:run|{run}&_count=0")
            people = client.get(f"/Patient?identifier=urn:test:run|{run}&_count=0")
            seen.add((int(shots.get_json()["total"]), int(people.get_json()["total"])))

    thread = threading.Thread(target=reader)
    thread.start()
    writer = app.test_client()
    try:
        for _ in range(12):
            assert send(writer, _shots_bundle(run)).status_code == 200
    finally:
        done.set()
        thread.join()
    assert all(shots % SHOTS == 0 for shots, _people in seen), sorted(seen)
    final = writer.get(f"/Immunization?identifier=urn:test:run|{run}&_count=0").get_json()
    assert final["total"] == 12 * SHOTS


def _parallel(app: Flask, count: int, body: Any) -> list[Any]:
    barrier = threading.Barrier(count)
    responses: list[Any] = []

    def work(number: int) -> None:
        client = app.test_client()
        barrier.wait()
        responses.append(send(client, body(number)))

    threads = [threading.Thread(target=work, args=(n,)) for n in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return responses


# http.html#transaction under concurrent writers: conflicting transactions on one resource are
# serialised (retried) or refused with 409, never half-applied and never losing an update
def test_concurrent_transactions_on_one_resource(app: Flask) -> None:
    client = app.test_client()
    run = uuid.uuid4().hex
    the_id = created_id(post(client, patient()))
    tagged = [{"system": "urn:test:run", "value": run}]

    def body(number: int) -> dict[str, Any]:
        return bundle(entry("PUT", f"Patient/{the_id}",
                            {**patient(), "id": the_id, "birthDate": f"19{50 + number}-01-01"}),
                      entry("POST", "Immunization",
                            immunization(f"Patient/{the_id}", identifier=tagged)))

    responses = _parallel(app, 6, body)
    statuses = [r.status_code for r in responses]
    assert set(statuses) <= {200, 409}, [r.get_json() for r in responses]
    ok = statuses.count(200)
    assert ok >= 1
    assert client.get(f"/Patient/{the_id}").headers["ETag"] == f'W/"{1 + ok}"'
    shots = client.get(f"/Immunization?identifier=urn:test:run|{run}&_count=0").get_json()
    assert shots["total"] == ok


# http.html#ccreate in concurrent transactions: the claim on the criteria lets one create win;
# the others find it (no duplicate Organization)
def test_concurrent_conditional_creates_make_one_resource(app: Flask) -> None:
    client = app.test_client()
    code = uuid.uuid4().hex
    org = {"resourceType": "Organization", "name": "Bệnh viện Bạch Mai",
           "identifier": [{"system": "urn:test:org", "value": code}]}

    def body(_number: int) -> dict[str, Any]:
        return bundle(entry("POST", "Organization", org, urn(),
                            ifNoneExist=f"identifier=urn:test:org|{code}"))

    responses = _parallel(app, 6, body)
    assert [r.status_code for r in responses] == [200] * 6, [r.get_json() for r in responses]
    statuses = sorted(r.get_json()["entry"][0]["response"]["status"] for r in responses)
    assert statuses == ["200 OK"] * 5 + ["201 Created"]
    found = client.get(f"/Organization?identifier=urn:test:org|{code}").get_json()
    assert found["total"] == 1

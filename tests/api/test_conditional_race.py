"""Conditional create and conditional update under concurrency (FHIR R4 http.html#ccreate,
#cond-update; issue "Hardening", point 1): parallel requests with the same criteria leave
exactly one resource, and every request answers with it."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pytest
from flask import Flask

FHIR = {"Content-Type": "application/fhir+json"}
PARALLEL = 20


def _patient(value: str) -> dict[str, Any]:
    return {"resourceType": "Patient",
            "identifier": [{"system": "urn:test:race-id", "value": value}],
            "name": [{"family": "Lê", "given": ["Race"]}]}


def _parallel(app: Flask, send: Callable[[Any], Any]) -> list[Any]:
    with ThreadPoolExecutor(PARALLEL) as pool:
        return list(pool.map(lambda _i: send(app.test_client()), range(PARALLEL)))


@pytest.mark.parametrize("round_", range(3))
def test_parallel_conditional_creates_make_one_resource(app: Flask, round_: int) -> None:
    value = uuid.uuid4().hex
    responses = _parallel(app, lambda web: web.post(
        "/Patient", json=_patient(value),
        headers={**FHIR, "If-None-Exist": f"identifier=urn:test:race-id|{value}"}))
    statuses = sorted(r.status_code for r in responses)
    assert statuses.count(201) == 1 and set(statuses) <= {200, 201}, statuses
    found = app.test_client().get(f"/Patient?identifier=urn:test:race-id|{value}").get_json()
    assert found["total"] == 1
    ids = {r.get_json()["id"] for r in responses}
    assert ids == {found["entry"][0]["resource"]["id"]}


def test_parallel_conditional_updates_make_one_resource(app: Flask) -> None:
    value = uuid.uuid4().hex
    responses = _parallel(app, lambda web: web.put(
        f"/Patient?identifier=urn:test:race-id|{value}", json=_patient(value), headers=FHIR))
    statuses = sorted(r.status_code for r in responses)
    # one creates; the others update it, or (updates racing on one version past the retries)
    # answer 409 Conflict, which a client retries: never a second resource
    assert statuses.count(201) == 1 and set(statuses) <= {200, 201, 409}, statuses
    found = app.test_client().get(f"/Patient?identifier=urn:test:race-id|{value}").get_json()
    assert found["total"] == 1

"""Real-world transactions: the Synthea bundles of ../shared/data/synthea (FHIR R4
http.html#transaction with urn:uuid fullUrls, bundle.html#references; http.html#ccreate for
deduplication)."""

from __future__ import annotations

import json
import os
from collections import Counter
from pathlib import Path
from typing import Any

import pytest
from flask.testing import FlaskClient

from fhir_server.bulk.bundle_tools import dedupe_entries, identifier_criteria, skip_unsupported
from tests.api.test_transaction import send

SYNTHEA = Path(os.environ.get("SYNTHEA_DATA", Path(__file__).resolve().parents[3]
                              / "shared/data/synthea"))
SUBSET = SYNTHEA / "subset-supported-types"
FULL = SYNTHEA / "bundles"
requires_synthea = pytest.mark.skipif(not SUBSET.is_dir(), reason=f"no Synthea data at {SYNTHEA}")


def _bundles(folder: Path) -> list[dict[str, Any]]:
    return [json.loads(path.read_bytes()) for path in sorted(folder.glob("*.json"))]


def _total(client: FlaskClient, type_name: str) -> int:
    return int(client.get(f"/{type_name}?_count=0").get_json()["total"])


def _types(bundles: list[dict[str, Any]]) -> Counter[str]:
    return Counter(e["resource"]["resourceType"] for b in bundles for e in b["entry"])


# http.html#transaction: every Synthea bundle (reduced to our types) loads as a transaction and
# every placeholder reference resolves to the created resource
@requires_synthea
def test_every_subset_bundle_loads(fresh_client: FlaskClient) -> None:
    bundles = _bundles(SUBSET)
    assert len(bundles) == 58
    for number, body in enumerate(bundles):
        response = send(fresh_client, body, Prefer="return=minimal")
        assert response.status_code == 200, (number, response.get_json())
        statuses = {e["response"]["status"] for e in response.get_json()["entry"]}
        assert statuses == {"201 Created"}
    for type_name, count in _types(bundles).items():
        assert _total(fresh_client, type_name) == count, type_name
    shots = fresh_client.get("/Immunization?_count=500").get_json()["entry"]
    patients = {e["resource"]["id"] for e in
                fresh_client.get("/Patient?_count=100").get_json()["entry"]}
    assert {e["resource"]["patient"]["reference"].split("/")[1] for e in shots} <= patients


# http.html#ccreate: with Organization and Practitioner sent as conditional creates on their
# identifier, loading all bundles leaves one resource per identifier
@requires_synthea
def test_dedupe_by_identifier(fresh_client: FlaskClient) -> None:
    bundles = _bundles(SUBSET)
    distinct = {t: {identifier_criteria(e["resource"]) for b in bundles for e in b["entry"]
                    if e["resource"]["resourceType"] == t}
                for t in ("Organization", "Practitioner")}
    for body in bundles:
        assert dedupe_entries(body) > 0
        response = send(fresh_client, body, Prefer="return=minimal")
        assert response.status_code == 200, response.get_json()
    for type_name, identifiers in distinct.items():
        assert _total(fresh_client, type_name) == len(identifiers) < _types(bundles)[type_name]
    assert _total(fresh_client, "Patient") == 58


def _with_unstored(body: dict[str, Any], position: int) -> dict[str, Any]:
    """A full bundle with an entry of a type this server does not store (MedicinalProduct: R4B
    has no model for it) that its Patient's entry points to."""
    entry = {"fullUrl": "urn:uuid:0d4cfbd0-7b7c-4c3f-9a55-4b8d7e3f0a11",
             "resource": {"resourceType": "MedicinalProduct"},
             "request": {"method": "POST", "url": "MedicinalProduct"}}
    body["entry"].insert(position, entry)
    patient = next(e["resource"] for e in body["entry"]
                   if e["resource"]["resourceType"] == "Patient")
    patient.setdefault("extension", []).append({
        "url": "urn:test:product", "valueReference": {"reference": entry["fullUrl"]}})
    return body


# http.html#transaction: a bundle holding a type this server does not store fails naming the
# entry, and nothing is stored
@requires_synthea
def test_full_bundle_fails_cleanly(fresh_client: FlaskClient) -> None:
    path = sorted(FULL.glob("*.json"))[0]
    body = _with_unstored(json.loads(path.read_bytes()), 5)
    response = send(fresh_client, body)
    assert response.status_code == 400
    issue = response.get_json()["issue"][0]
    assert issue["expression"] == ["Bundle.entry[5].request.url"]
    assert issue["code"] == "not-supported"
    assert _total(fresh_client, "Patient") == 0


# the loader's skip option: unsupported entries and references to them are dropped
@requires_synthea
def test_full_bundle_with_unsupported_types_skipped(fresh_client: FlaskClient) -> None:
    path = sorted(FULL.glob("*.json"))[0]
    full = json.loads(path.read_bytes())
    reduced, skipped = skip_unsupported(_with_unstored(json.loads(path.read_bytes()), 5))
    assert skipped.types == Counter({"MedicinalProduct": 1}) and skipped.references == 1
    response = send(fresh_client, reduced, Prefer="return=minimal")
    assert response.status_code == 200, response.get_json()
    for type_name, count in _types([full]).items():
        assert _total(fresh_client, type_name) == count

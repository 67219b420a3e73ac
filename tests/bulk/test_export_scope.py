"""Bulk $export covers every stored type (Bulk Data Access IG v2 export.html: system export of
all types, Patient/$export of the Patient compartment, compartmentdefinition-patient.html), shown
on full Synthea bundles (Encounter, Observation, Claim, ExplanationOfBenefit...)."""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Callable
from pathlib import Path

import pytest
from flask import Flask
from flask.testing import FlaskClient

from fhir_server.auth.compartment import compartment_params
from fhir_server.bulk.bundle_tools import dedupe_entries
from fhir_server.bulk.export_scope import exportable_types
from fhir_server.resource_types import RESOURCE_TYPES
from tests.api.test_transaction import send
from tests.api.test_transaction_synthea import FULL
from tests.bulk.test_export import files, kick_off, wait

SAMPLE = 3  # full bundles: the first, the middle and the last


@pytest.fixture()
def http(make_app: Callable[..., Flask], tmp_path: Path) -> FlaskClient:
    """A client of an app on an empty database with its own export directory."""
    return make_app(export_dir=str(tmp_path / "export")).test_client()


def test_exportable_types_are_every_stored_type() -> None:
    # export.html: a system export holds every type; a patient export the compartment types
    assert exportable_types("system") == sorted(RESOURCE_TYPES)
    patient = exportable_types("patient")
    assert patient[0] == "Patient"
    assert set(patient[1:]) == {t for t in RESOURCE_TYPES if t != "Patient"
                                and compartment_params(t)}
    assert {"Encounter", "Observation", "Claim", "Condition"} <= set(patient)
    assert "Organization" not in patient and exportable_types("group") == patient


def _load(client: FlaskClient) -> Counter[str]:
    paths = sorted(FULL.glob("*.json"))
    chosen = [paths[0], paths[len(paths) // 2], paths[-1]][:SAMPLE]
    types: Counter[str] = Counter()
    for path in chosen:
        body = json.loads(Path(path).read_bytes())
        dedupe_entries(body)
        response = send(client, body, Prefer="return=minimal")
        assert response.status_code == 200, response.get_json()
    for type_name in {e["resource"]["resourceType"] for p in chosen
                      for e in json.loads(Path(p).read_bytes())["entry"]}:
        types[type_name] = int(client.get(f"/{type_name}?_count=0").get_json()["total"])
    return types


@pytest.mark.skipif(not FULL.is_dir(), reason=f"no Synthea bundles at {FULL}")
def test_system_and_patient_export_hold_every_type(http: FlaskClient) -> None:
    stored = _load(http)
    system = files(http, wait(http, kick_off(http)).get_json())
    assert {t: len(r) for t, r in system.items()} == dict(stored)
    patients = files(http, wait(http, kick_off(http, "/Patient/$export")).get_json())
    shared = {"Organization", "Practitioner"}
    assert {t: len(r) for t, r in patients.items()} == {
        t: n for t, n in stored.items() if t not in shared}

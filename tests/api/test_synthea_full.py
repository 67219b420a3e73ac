"""The full Synthea bundles of ../shared/data/synthea/bundles (every resource type they hold:
Encounter, Observation, Claim, ExplanationOfBenefit...) load as transactions over the API
(FHIR R4 http.html#transaction, bundle.html#references; http.html#ccreate for the shared
Organization and Practitioner entries, rewritten by bulk/bundle_tools.dedupe_entries), and
$everything then returns each patient's whole record (patient-operation-everything.html).

All 58 bundles load in the normal suite (about 40 s on SecantusDB, measured in the report of
issue 13; SYNTHEA_FULL_SAMPLE=N loads only every N-th bundle when time is short).
"""

from __future__ import annotations

import json
import os
import time
from collections import Counter
from pathlib import Path
from typing import Any

import pytest
from flask.testing import FlaskClient

from fhir_server.bulk.bundle_tools import dedupe_entries, identifier_criteria
from tests.api.test_transaction import send
from tests.api.test_transaction_synthea import FULL

requires_full = pytest.mark.skipif(not FULL.is_dir(), reason=f"no Synthea bundles at {FULL}")
STEP = int(os.environ.get("SYNTHEA_FULL_SAMPLE", "1"))  # 1: all 58 bundles


def _paths() -> list[Path]:
    return sorted(FULL.glob("*.json"))[::STEP]


def _total(client: FlaskClient, type_name: str) -> int:
    return int(client.get(f"/{type_name}?_count=0").get_json()["total"])


def _everything(client: FlaskClient, patient_id: str) -> list[dict[str, Any]]:
    """Every resource of a patient's $everything, following next links."""
    url: str | None = f"/Patient/{patient_id}/$everything?_count=500"
    resources = []
    while url:
        page = client.get(url).get_json()
        resources += [entry["resource"] for entry in page.get("entry", [])]
        nexts = [link["url"] for link in page["link"] if link["relation"] == "next"]
        url = nexts[0].split("/fhir", 1)[1] if nexts else None
    return resources


# http.html#transaction: each full bundle is one transaction; shared Organization and
# Practitioner entries become conditional creates (one resource per identifier); every
# placeholder reference resolves; each patient's $everything holds all its bundle's entries
@requires_full
def test_full_synthea_bundles_load(fresh_client: FlaskClient) -> None:
    bodies = [json.loads(path.read_bytes()) for path in _paths()]
    types: Counter[str] = Counter(e["resource"]["resourceType"] for b in bodies
                                  for e in b["entry"])
    shared = {"Organization", "Practitioner"}
    distinct = {t: {identifier_criteria(e["resource"]) for b in bodies for e in b["entry"]
                    if e["resource"]["resourceType"] == t} for t in shared}
    started = time.monotonic()
    patients = []
    for body in bodies:
        dedupe_entries(body)
        response = send(fresh_client, body, Prefer="return=minimal")
        assert response.status_code == 200, response.get_json()
        entries = response.get_json()["entry"]
        assert {e["response"]["status"] for e in entries} <= {"200 OK", "201 Created"}
        (patient,) = [e["response"]["location"] for e in entries
                      if e["response"]["location"].startswith("Patient/")]
        patients.append((patient.split("/")[1], body))
    elapsed = time.monotonic() - started
    print(f"\n{len(bodies)} full Synthea bundles, {sum(types.values())} entries: {elapsed:.1f} s")
    started = time.monotonic()
    for type_name, count in types.items():
        expected = len(distinct[type_name]) if type_name in shared else count
        assert _total(fresh_client, type_name) == expected, type_name
    for patient_id, body in patients[:3]:
        record = Counter(r["resourceType"] for r in _everything(fresh_client, patient_id))
        own = Counter(e["resource"]["resourceType"] for e in body["entry"]
                      if e["resource"]["resourceType"] not in shared)
        assert record == own
    print(f"checks: {time.monotonic() - started:.1f} s")

"""The access hook: a mandatory filter per type is ANDed into every query the search runs -
matches, chains, reverse chains, includes and revincludes."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import pytest

from fhir_server.search.guard import restricted
from tests.search.conftest import SearchBed


def only_patient_one(type_name: str) -> Mapping[str, Any] | None:
    """A compartment-like restriction to Patient/g-p1."""
    if type_name == "Patient":
        return {"_id": "g-p1"}
    if type_name == "Immunization":
        return {"idx.p.patient": "Patient/g-p1"}
    return None


@pytest.fixture(scope="module")
def two(bed: SearchBed) -> None:
    for pid in ("g-p1", "g-p2"):
        bed.add({"resourceType": "Patient", "id": pid, "gender": "male"})
        bed.add({"resourceType": "Immunization", "id": f"g-i-{pid}", "status": "completed",
                 "vaccineCode": {"text": "x"}, "occurrenceDateTime": "2020",
                 "patient": {"reference": f"Patient/{pid}"}})


def test_matches_chains_and_reverse_chains_are_restricted(bed: SearchBed, two: None) -> None:
    assert bed.ids("Patient", "gender=male") >= {"g-p1", "g-p2"}
    guard = only_patient_one
    assert bed.ids("Patient", "gender=male", guard) == {"g-p1"}
    assert bed.ids("Immunization", "status=completed", guard) == {"g-i-g-p1"}
    assert bed.ids("Immunization", "patient.gender=male", guard) == {"g-i-g-p1"}
    assert bed.ids("Patient", "_has:Immunization:patient:status=completed", guard) == {"g-p1"}
    assert bed.ids("Immunization", "patient=g-p2", guard) == set()


def test_includes_are_restricted(bed: SearchBed, two: None) -> None:
    params = [("_id", "g-i-g-p2"), ("_include", "Immunization:patient")]
    with restricted(lambda t: {"_id": "g-i-g-p2"} if t == "Immunization" else
                    only_patient_one(t)):
        outcome = bed.service.search("Immunization", params)
        assert [v.id for v in outcome.matches] == ["g-i-g-p2"]
        assert outcome.included == []  # Patient/g-p2 is outside the restriction
    with restricted(only_patient_one):
        outcome = bed.service.search("Patient", [("_revinclude", "Immunization:patient")])
        assert [v.id for v in outcome.included] == ["g-i-g-p1"]

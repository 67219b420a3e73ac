"""The one door for search: the Repository ANDs the caller's restriction (the Patient
compartment of a citizen, FHIR R4 compartmentdefinition-patient) into every query the search
runs - matches, chains, reverse chains, includes and revincludes."""

from __future__ import annotations

import pytest

from fhir_server.auth.principal import CITIZEN, Principal
from fhir_server.auth.scopes import ScopeSet
from tests.search.conftest import SearchBed

ONE = Principal(CITIZEN, "acct-1", ScopeSet.parse("patient/*.read"), frozenset({"g-p1"}),
                patient="g-p1")


@pytest.fixture(scope="module")
def two(bed: SearchBed) -> None:
    for pid in ("g-p1", "g-p2"):
        bed.add({"resourceType": "Patient", "id": pid, "gender": "male"})
        bed.add({"resourceType": "Immunization", "id": f"g-i-{pid}", "status": "completed",
                 "vaccineCode": {"text": "x"}, "occurrenceDateTime": "2020",
                 "patient": {"reference": f"Patient/{pid}"}})


def test_matches_chains_and_reverse_chains_are_restricted(bed: SearchBed, two: None) -> None:
    assert bed.ids("Patient", "gender=male") >= {"g-p1", "g-p2"}
    assert bed.ids("Patient", "gender=male", ONE) == {"g-p1"}
    assert bed.ids("Immunization", "status=completed", ONE) == {"g-i-g-p1"}
    assert bed.ids("Immunization", "patient.gender=male", ONE) == {"g-i-g-p1"}
    assert bed.ids("Patient", "_has:Immunization:patient:status=completed", ONE) == {"g-p1"}
    assert bed.ids("Immunization", "patient=g-p2", ONE) == set()


def test_includes_are_restricted(bed: SearchBed, two: None) -> None:
    service = bed.as_caller(ONE)
    outcome = service.search("Immunization", [("_id", "g-i-g-p1,g-i-g-p2"),
                                              ("_include", "Immunization:patient")])
    assert [v.id for v in outcome.matches] == ["g-i-g-p1"]
    assert [v.id for v in outcome.included] == ["g-p1"]
    outcome = service.search("Patient", [("_revinclude", "Immunization:patient")])
    assert [v.id for v in outcome.included] == ["g-i-g-p1"]

"""Reference search against the real database (search.html#reference, #chaining, #has)."""

from __future__ import annotations

import pytest

from fhir_server.errors import InvalidRequest
from tests.search.conftest import BASE, SearchBed


@pytest.fixture(scope="module")
def graph(bed: SearchBed) -> None:
    """Two patients, an organization, immunizations and a communication."""
    bed.add({"resourceType": "Organization", "id": "ref-org", "name": "Bệnh viện Bạch Mai"})
    bed.add({"resourceType": "Patient", "id": "ref-p1", "name": [{"family": "Lê"}],
             "identifier": [{"system": "urn:cccd", "value": "001"}],
             "managingOrganization": {"reference": f"{BASE}/Organization/ref-org"}})
    bed.add({"resourceType": "Patient", "id": "ref-p2", "name": [{"family": "Phạm"}],
             "identifier": [{"system": "urn:cccd", "value": "002"}]})
    for rid, patient, code in (("ref-i1", "Patient/ref-p1", "207"),
                               ("ref-i2", "Patient/ref-p2", "208"),
                               ("ref-i3", f"{BASE}/Patient/ref-p1/_history/1", "208")):
        bed.add({"resourceType": "Immunization", "id": rid, "status": "completed",
                 "vaccineCode": {"coding": [{"system": "urn:cvx", "code": code}]},
                 "patient": {"reference": patient}, "occurrenceDateTime": "2021-01-01"})
    bed.add({"resourceType": "Immunization", "id": "ref-i4", "status": "completed",
             "vaccineCode": {"text": "x"}, "occurrenceDateTime": "2021-01-01",
             "patient": {"identifier": {"system": "urn:cccd", "value": "003"}}})
    bed.add({"resourceType": "Communication", "id": "ref-c1", "status": "completed",
             "subject": {"reference": "Patient/ref-p2"},
             "recipient": [{"reference": "https://other.example/fhir/Practitioner/9"}]})


def test_type_and_id(bed: SearchBed, graph: None) -> None:
    # Type/id, absolute URLs on this server and versioned references match
    assert bed.ids("Immunization", "patient=Patient/ref-p1") == {"ref-i1", "ref-i3"}
    assert bed.ids("Immunization", f"patient={BASE}/Patient/ref-p1") == {"ref-i1", "ref-i3"}


def test_id_only_and_type_modifier(bed: SearchBed, graph: None) -> None:
    assert bed.ids("Immunization", "patient=ref-p2") == {"ref-i2"}
    assert bed.ids("Communication", "subject:Patient=ref-p2") == {"ref-c1"}
    assert bed.ids("Communication", "subject:Group=ref-p2") == set()


def test_external_url(bed: SearchBed, graph: None) -> None:
    assert bed.ids("Communication",
                   "recipient=https://other.example/fhir/Practitioner/9") == {"ref-c1"}


def test_identifier_modifier(bed: SearchBed, graph: None) -> None:
    # :identifier matches Reference.identifier
    assert bed.ids("Immunization", "patient:identifier=urn:cccd|003") == {"ref-i4"}
    assert bed.ids("Immunization", "patient:identifier=003") == {"ref-i4"}


def test_missing(bed: SearchBed, graph: None) -> None:
    assert bed.ids("Patient", "organization:missing=false&_id=ref-p1,ref-p2") == {"ref-p1"}


def test_or_and(bed: SearchBed, graph: None) -> None:
    assert bed.ids("Immunization", "patient=ref-p1,ref-p2") == {"ref-i1", "ref-i2", "ref-i3"}
    assert bed.ids("Immunization", "patient=ref-p1&vaccine-code=208") == {"ref-i3"}


def test_chain(bed: SearchBed, graph: None) -> None:
    # search.html#chaining
    assert bed.ids("Immunization", "patient.identifier=urn:cccd|002") == {"ref-i2"}
    assert bed.ids("Immunization", "patient:Patient.name=le") == {"ref-i1", "ref-i3"}
    assert bed.ids("Immunization", "patient.organization.name=benh vien") == {"ref-i1",
                                                                              "ref-i3"}
    assert bed.ids("Immunization", "patient.identifier=nobody") == set()


def test_reverse_chain(bed: SearchBed, graph: None) -> None:
    # search.html#has
    assert bed.ids("Patient", "_has:Immunization:patient:vaccine-code=208") == {"ref-p1",
                                                                                "ref-p2"}
    assert bed.ids("Patient", "_has:Immunization:patient:vaccine-code=207") == {"ref-p1"}
    assert bed.ids("Patient", "_has:Communication:subject:status=completed") == {"ref-p2"}
    assert bed.ids("Organization",
                   "_has:Patient:organization:_has:Immunization:patient:vaccine-code=207") \
        == {"ref-org"}


def test_bad_references(bed: SearchBed, graph: None) -> None:
    with pytest.raises(InvalidRequest):
        bed.ids("Communication", "subject:Patient=Group/1")
    with pytest.raises(InvalidRequest):
        bed.ids("Immunization", "vaccine-code.name=x")  # not a reference: cannot chain
    with pytest.raises(InvalidRequest):
        bed.ids("Patient", "_has:Immunization:vaccine-code:status=x")

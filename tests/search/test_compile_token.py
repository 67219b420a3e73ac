"""Token search against the real database (search.html#token, #modifiers)."""

from __future__ import annotations

import pytest

from fhir_server.storage.query import compile_criteria
from tests.search.conftest import SearchBed

CVX = "http://hl7.org/fhir/sid/cvx"


@pytest.fixture(scope="module")
def patients(bed: SearchBed) -> dict[str, str]:
    """Patients with identifiers, telecom, gender, tags and a typed identifier."""
    return {
        "a": bed.add({"resourceType": "Patient", "id": "tok-a", "gender": "male",
                      "active": True,
                      "identifier": [{"system": "urn:mrn", "value": "A-1", "type": {
                          "coding": [{"system": "http://terminology.hl7.org/CodeSystem/v2-0203",
                                      "code": "MR"}], "text": "Medical record number"}}],
                      "telecom": [{"system": "phone", "value": "0901"},
                                  {"system": "email", "value": "a@x.vn"}],
                      "meta": {"tag": [{"system": "urn:tags", "code": "vip"}],
                               "security": [{"system": "urn:sec", "code": "R"}]}}),
        "b": bed.add({"resourceType": "Patient", "id": "tok-b", "gender": "female",
                      "identifier": [{"value": "B-2"}, {"system": "urn:other", "value": "A-1"}],
                      "meta": {"tag": [{"system": "urn:tags", "code": "new"}]}}),
        "c": bed.add({"resourceType": "Patient", "id": "tok-c"}),
    }


def test_code_without_system_matches_any_system(bed: SearchBed, patients: dict[str, str]
                                                ) -> None:
    # search.html#token: [parameter]=[code]
    assert bed.ids("Patient", "identifier=A-1") == {"tok-a", "tok-b"}


def test_system_and_code(bed: SearchBed, patients: dict[str, str]) -> None:
    # search.html#token: [parameter]=[system]|[code]
    assert bed.ids("Patient", "identifier=urn:mrn|A-1") == {"tok-a"}
    assert bed.ids("Patient", "identifier=urn:none|A-1") == set()


def test_no_system(bed: SearchBed, patients: dict[str, str]) -> None:
    # search.html#token: [parameter]=|[code] matches only values without a system
    assert bed.ids("Patient", "identifier=|B-2") == {"tok-b"}
    assert bed.ids("Patient", "identifier=|A-1") == set()


def test_system_only(bed: SearchBed, patients: dict[str, str]) -> None:
    # search.html#token: [parameter]=[system]| matches any code in the system
    assert bed.ids("Patient", "identifier=urn:other|") == {"tok-b"}


def test_code_with_bound_system(bed: SearchBed, patients: dict[str, str]) -> None:
    # A code element takes the system of its required binding (administrative-gender)
    assert bed.ids("Patient", "gender=male") == {"tok-a"}
    assert bed.ids("Patient", "gender=http://hl7.org/fhir/administrative-gender|female") \
        == {"tok-b"}


def test_boolean(bed: SearchBed, patients: dict[str, str]) -> None:
    assert bed.ids("Patient", "active=true") == {"tok-a"}


def test_or_values_and_repeated_parameters(bed: SearchBed, patients: dict[str, str]) -> None:
    # search.html#multivalue: comma is OR, repetition is AND
    assert bed.ids("Patient", "gender=male,female") == {"tok-a", "tok-b"}
    assert bed.ids("Patient", "identifier=A-1&identifier=B-2") == {"tok-b"}
    assert bed.ids("Patient", "identifier=A-1&gender=female") == {"tok-b"}


def test_not_includes_missing_values(bed: SearchBed, patients: dict[str, str]) -> None:
    # search.html#modifiers: :not also matches resources without a value
    assert bed.ids("Patient", "gender:not=male") == {"tok-b", "tok-c"}
    assert bed.ids("Patient", "gender:not=male,female") == {"tok-c"}


def test_text_modifier(bed: SearchBed, patients: dict[str, str]) -> None:
    # :text matches CodeableConcept.text / Coding.display / Identifier.type.text by prefix
    assert bed.ids("Patient", "identifier:text=medical REC") == {"tok-a"}
    assert bed.ids("Patient", "identifier:text=record") == set()


def test_of_type(bed: SearchBed, patients: dict[str, str]) -> None:
    # :of-type=[type system]|[type code]|[value]
    system = "http://terminology.hl7.org/CodeSystem/v2-0203"
    assert bed.ids("Patient", f"identifier:of-type={system}|MR|A-1") == {"tok-a"}
    assert bed.ids("Patient", f"identifier:of-type={system}|MR|B-2") == set()


def test_missing(bed: SearchBed, patients: dict[str, str]) -> None:
    # search.html#missing
    assert bed.ids("Patient", "gender:missing=true") == {"tok-c"}
    assert bed.ids("Patient", "gender:missing=false") == {"tok-a", "tok-b"}


def test_contact_points(bed: SearchBed, patients: dict[str, str]) -> None:
    # phone/email select ContactPoint.system; the value is the token
    assert bed.ids("Patient", "phone=0901") == {"tok-a"}
    assert bed.ids("Patient", "email=0901") == set()
    assert bed.ids("Patient", "telecom=a@x.vn") == {"tok-a"}


def test_tag_and_security(bed: SearchBed, patients: dict[str, str]) -> None:
    # search.html#all: _tag and _security
    assert bed.ids("Patient", "_tag=urn:tags|vip") == {"tok-a"}
    assert bed.ids("Patient", "_tag=new") == {"tok-b"}
    assert bed.ids("Patient", "_security=urn:sec|R") == {"tok-a"}


def test_id(bed: SearchBed, patients: dict[str, str]) -> None:
    assert bed.ids("Patient", "_id=tok-a,tok-c") == {"tok-a", "tok-c"}
    assert bed.ids("Patient", "_id:not=tok-a&identifier=A-1") == {"tok-b"}


def test_escaped_separators_are_data(bed: SearchBed) -> None:
    # search.html#escaping: \, \| \$ are literal characters
    bed.add({"resourceType": "Patient", "id": "tok-esc",
             "identifier": [{"system": "urn:x", "value": "a,b|c"}]})
    assert bed.ids("Patient", r"identifier=urn:x|a\,b\|c") == {"tok-esc"}
    assert bed.ids("Patient", r"identifier=a\,b\|c") == {"tok-esc"}


def test_vaccine_code(bed: SearchBed) -> None:
    bed.add({"resourceType": "Immunization", "id": "tok-imm", "status": "completed",
             "vaccineCode": {"coding": [{"system": CVX, "code": "207", "display": "COVID-19"}],
                             "text": "Moderna"},
             "patient": {"reference": "Patient/tok-a"}, "occurrenceDateTime": "2021-05-01"})
    assert bed.ids("Immunization", f"vaccine-code={CVX}|207") == {"tok-imm"}
    assert bed.ids("Immunization", "vaccine-code:text=covid") == {"tok-imm"}
    assert bed.ids("Immunization", "vaccine-code:text=mod") == {"tok-imm"}
    assert bed.ids("Immunization", "status=completed&vaccine-code=207") == {"tok-imm"}


def test_the_index_starts_from_the_code_and_a_status_only_filters(bed: SearchBed) -> None:
    # search.html#token: system|code is found from the code's index entries and decided by the
    # exact values; a code of a small required value set (event-status) has no index entry
    criteria = bed.service.criteria_for("Immunization", [("vaccine-code", f"{CVX}|207"),
                                                         ("status", "completed")])
    query = compile_criteria("Immunization", criteria)
    assert next(iter(query.items())) == ("idx.k", "vaccine-code\x1c207")
    assert query["idx.p.vaccine-code"] == f"{CVX}\x1f207"
    assert query["idx.p.status"] == "completed"

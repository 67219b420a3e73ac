"""check_structure: the base rules fhir.resources lets through (empties, codes, references)."""

from __future__ import annotations

from typing import Any

import pytest

from fhir_server.errors import Issue
from fhir_server.validation import check_structure, structure
from fhir_server.validation.schema import PropertyRule, Schema, load_schema


def _found(resource: dict[str, Any]) -> list[tuple[str, str]]:
    """(issue code, expression) pairs of check_structure."""
    issues = check_structure(resource)
    assert all(isinstance(issue, Issue) and issue.severity == "error" for issue in issues)
    return [(issue.code, issue.expression[0]) for issue in issues]


def _immunization(**fields: Any) -> dict[str, Any]:
    """A minimal valid Immunization with extra fields."""
    return {"resourceType": "Immunization", "status": "completed",
            "vaccineCode": {"text": "MMR"}, "patient": {"reference": "Patient/p1"},
            "occurrenceDateTime": "2024-05-01", **fields}


def test_a_valid_resource_has_no_issues() -> None:
    # FHIR R4 json.html: a well-formed resource
    patient = {"resourceType": "Patient", "id": "p1", "gender": "female", "active": True,
               "name": [{"use": "official", "family": "Nguyen", "given": ["Thi", "Lan"]}],
               "telecom": [{"system": "phone", "value": "0901", "use": "mobile"}],
               "birthDate": "2001-02-03", "_birthDate": {"extension": [
                   {"url": "http://example.org/x", "valueString": "approx"}]}}
    assert _found(patient) == []
    assert _found(_immunization()) == []


def test_null_values_are_refused_everywhere() -> None:
    # FHIR R4 json.html: "null values are not allowed" (outside paired primitive arrays)
    patient = {"resourceType": "Patient", "gender": None,
               "name": [{"family": "A", "given": ["B", None]}, None]}
    assert _found(patient) == [("structure", "Patient.gender"),
                               ("structure", "Patient.name[0].given[1]"),
                               ("structure", "Patient.name[1]")]


def test_nulls_that_pair_a_primitive_array_with_its_extensions_are_allowed() -> None:
    # FHIR R4 json.html#primitive: "given": ["A", null], "_given": [null, {"extension": ...}]
    extension = {"extension": [{"url": "http://example.org/x", "valueCode": "y"}]}
    name = {"given": ["A", None], "_given": [None, extension]}
    assert _found({"resourceType": "Patient", "name": [name]}) == []
    unpaired = {"given": ["A", None], "_given": [extension, None]}
    assert _found({"resourceType": "Patient", "name": [unpaired]}) == [
        ("structure", "Patient.name[0].given[1]"), ("structure", "Patient.name[0]._given[1]")]


def test_empty_strings_objects_and_arrays_are_refused() -> None:
    # FHIR R4 json.html: "empty values are not allowed" ("", {}, [])
    patient = {"resourceType": "Patient", "name": [{"family": ""}], "address": [],
               "maritalStatus": {}, "_birthDate": {},
               "extension": [{"url": "http://example.org/x", "valueString": ""}]}
    assert _found(patient) == [
        ("structure", "Patient.name[0].family"), ("structure", "Patient.address"),
        ("structure", "Patient.maritalStatus"), ("structure", "Patient._birthDate"),
        ("structure", "Patient.extension[0].valueString")]


@pytest.mark.parametrize(("resource", "expression"), [
    ({"resourceType": "Patient", "gender": "F"}, "Patient.gender"),
    (_immunization(status="done"), "Immunization.status"),
    ({"resourceType": "Appointment", "status": "planned", "participant": [{"status": "accepted"}]},
     "Appointment.status"),
    ({"resourceType": "Patient", "identifier": [{"use": "primary", "value": "1"}]},
     "Patient.identifier[0].use"),
    ({"resourceType": "Patient", "telecom": [{"system": "mobile", "value": "1"}]},
     "Patient.telecom[0].system"),
    ({"resourceType": "Patient", "name": [{"use": "legal", "family": "A"}]},
     "Patient.name[0].use"),
    ({"resourceType": "Patient", "address": [{"use": "office", "city": "Hue"}]},
     "Patient.address[0].use"),
    (_immunization(doseQuantity={"value": 1, "comparator": "="}),
     "Immunization.doseQuantity.comparator"),
    ({"resourceType": "Patient", "text": {"status": "draft", "div": "<div>x</div>"}},
     "Patient.text.status"),
    ({"resourceType": "Patient", "contact": [{"gender": "woman"}]}, "Patient.contact[0].gender"),
    (_immunization(performer=[{"actor": {"identifier": {"use": "x", "value": "1"}}}]),
     "Immunization.performer[0].actor.identifier.use"),
    ({"resourceType": "Patient", "extension": [
        {"url": "http://example.org/x", "valueIdentifier": {"use": "main", "value": "1"}}]},
     "Patient.extension[0].valueIdentifier.use"),
    ({"resourceType": "PractitionerRole", "availableTime": [{"daysOfWeek": ["mon", "monday"]}]},
     "PractitionerRole.availableTime[0].daysOfWeek[1]"),
])
def test_codes_outside_a_required_value_set_are_refused(
        resource: dict[str, Any], expression: str) -> None:
    # FHIR R4 terminologies.html#required: "the concept SHALL be from the specified value set"
    assert _found(resource) == [("code-invalid", expression)]


def test_codeable_concepts_check_only_codings_of_the_bound_systems() -> None:
    # FHIR R4 terminologies.html#required: codings of other systems may be added as translations
    system = "http://terminology.hl7.org/CodeSystem/adverse-event-severity"
    event = {"resourceType": "AdverseEvent", "actuality": "actual",
             "subject": {"reference": "Patient/p1"},
             "severity": {"coding": [{"system": "http://example.org/local", "code": "bad"},
                                     {"system": system, "code": "mild"},
                                     {"system": system, "code": "awful"}]}}
    assert _found(event) == [("code-invalid", "AdverseEvent.severity.coding[2].code")]


def test_required_codings_need_a_system_and_code_of_the_value_set(
        monkeypatch: pytest.MonkeyPatch) -> None:
    # FHIR R4 terminologies.html#required: for a Coding, system and code come from the value set
    base = load_schema()
    bound = PropertyRule(type_key="Coding", children=base.rules_by_type["Coding"],
                         value_set="http://example.org/vs", codes=frozenset({"a"}),
                         codes_by_system={"http://example.org/cs": frozenset({"a"})},
                         is_coded=True)
    rules = {**base.rules_by_type, "Patient": {**base.rules_by_type["Patient"], "kind": bound}}
    monkeypatch.setattr(structure, "load_schema", lambda: Schema(
        rules, base.resource_types, base.extension_rules, base.element_rules))
    assert _found({"resourceType": "Patient",
                   "kind": {"system": "http://example.org/cs", "code": "a"}}) == []
    assert _found({"resourceType": "Patient", "kind": {"code": "a"}}) == []
    assert _found({"resourceType": "Patient",
                   "kind": {"system": "http://example.org/cs", "code": "b"}}) == [
        ("code-invalid", "Patient.kind.code")]
    assert _found({"resourceType": "Patient",
                   "kind": {"system": "http://example.org/other", "code": "a"}}) == [
        ("code-invalid", "Patient.kind.system")]


@pytest.mark.parametrize("reference", [
    "Patient/p1", "Patient/p1/_history/2", "http://example.org/fhir/Patient/p1",
    "http://example.org/fhir/Patient/p1/_history/3", "#p1",
    "urn:uuid:0c3151bd-1cbf-4d64-b04d-cd9187a4c6e0", "urn:oid:1.2.3", "Patient?identifier=a|1",
])
def test_references_to_an_allowed_type_pass(reference: str) -> None:
    # FHIR R4 references.html#literal: relative, absolute, versioned, contained and urn forms
    assert _found(_immunization(patient={"reference": reference})) == []


@pytest.mark.parametrize(("reference", "code"), [
    ("Practitioner/p1", "invalid"), ("Practitioner/p1/_history/2", "invalid"),
    ("http://example.org/fhir/Organization/o1", "invalid"), ("Practitioner?name=x", "invalid"),
    ("Patientt/p1", "invalid"), ("patient/p1", "invalid"),
])
def test_references_to_a_type_the_element_does_not_allow_are_refused(
        reference: str, code: str) -> None:
    # FHIR R4 immunization.html: Immunization.patient is Reference(Patient)
    assert _found(_immunization(patient={"reference": reference})) == [
        (code, "Immunization.patient.reference")]


def test_references_to_any_resource_still_need_a_resource_type() -> None:
    # FHIR R4 auditevent.html: AuditEvent.entity.what is Reference(Any)
    event: dict[str, Any] = {
        "resourceType": "AuditEvent", "type": {"code": "rest"}, "recorded": "2024-01-01T00:00:00Z",
        "agent": [{"requestor": True, "who": {"reference": "Practitioner/d1"}}],
        "source": {"observer": {"reference": "Device/d1"}},
        "entity": [{"what": {"reference": "Observation/o1"}}, {"what": {"reference": "Foo/1"}}]}
    assert _found(event) == [("invalid", "AuditEvent.entity[1].what.reference")]


def test_reference_type_must_agree_with_the_reference_and_the_element() -> None:
    # FHIR R4 references.html: Reference.type and Reference.reference "SHALL be consistent"
    assert _found(_immunization(patient={"reference": "Patient/p1", "type": "Group"})) == [
        ("invalid", "Immunization.patient.type")]
    assert _found(_immunization(patient={"identifier": {"value": "1"}, "type": "Group"})) == [
        ("invalid", "Immunization.patient.type")]
    assert _found(_immunization(patient={"identifier": {"value": "1"}, "type": "Patient"})) == []


def test_contained_resources_are_checked_with_their_own_paths() -> None:
    # FHIR R4 references.html#contained: contained resources are full resources
    immunization = _immunization(
        contained=[
            {"resourceType": "Organization", "id": "o1", "name": "",
             "telecom": [{"system": "fax2", "value": "1"}]},
            {"resourceType": "Patient", "id": "p1", "gender": "f",
             "managingOrganization": {"reference": "Patient/x"}},
            {"resourceType": "Medication", "id": "m1", "status": None},
        ],
        patient={"reference": "#p1"}, manufacturer={"reference": "#o1"})
    assert _found(immunization) == [
        ("structure", "Immunization.contained[0].name"),
        ("code-invalid", "Immunization.contained[0].telecom[0].system"),
        ("code-invalid", "Immunization.contained[1].gender"),
        ("invalid", "Immunization.contained[1].managingOrganization.reference"),
        ("structure", "Immunization.contained[2].status"),
    ]


def test_nested_backbone_and_recursive_items_are_walked() -> None:
    # FHIR R4 questionnaire.html: item.item repeats Questionnaire.item (contentReference)
    questionnaire = {"resourceType": "Questionnaire", "status": "active", "item": [
        {"linkId": "1", "type": "group", "item": [
            {"linkId": "1.1", "type": "choice", "enableBehavior": "some",
             "enableWhen": [{"question": "1", "operator": "=~", "answerBoolean": True}]}]}]}
    assert _found(questionnaire) == [
        ("code-invalid", "Questionnaire.item[0].item[0].enableBehavior"),
        ("code-invalid", "Questionnaire.item[0].item[0].enableWhen[0].operator")]

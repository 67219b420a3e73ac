"""bindings.json: required-binding codes and reference targets taken from the R4 snapshots."""

from __future__ import annotations

from fhir_server import spec
from fhir_server.resource_types import RESOURCE_TYPES

GENDER = "http://hl7.org/fhir/ValueSet/administrative-gender"


def _codes(url: str) -> set[str]:
    """Every code of a value set in bindings.json."""
    return {code for codes in spec.value_set_codes(url).values() for code in codes}


def test_every_resource_type_has_an_element_map() -> None:
    # FHIR R4 structuredefinition.html: each resource's snapshot lists all its elements
    keys = set(spec.binding_type_keys())
    assert set(RESOURCE_TYPES) <= keys
    assert {"Identifier", "HumanName", "ContactPoint", "Address", "Narrative", "Quantity",
            "Extension", "Reference", "CodeableConcept", "Element"} <= keys


def test_required_code_bindings_are_expanded() -> None:
    # FHIR R4 patient.html: Patient.gender is bound (required) to AdministrativeGender
    assert spec.bindings("Patient")["gender"] == {"type": "code", "valueSet": GENDER}
    assert _codes(GENDER) == {"male", "female", "other", "unknown"}
    status = spec.bindings("Immunization")["status"]["valueSet"]
    assert _codes(status) == {"completed", "entered-in-error", "not-done"}
    appointment = spec.bindings("Appointment")["status"]["valueSet"]
    assert {"proposed", "booked", "fulfilled", "cancelled", "noshow"} <= _codes(appointment)


def test_data_type_bindings_are_listed_once_per_data_type() -> None:
    # FHIR R4 datatypes.html: Identifier.use, HumanName.use, ContactPoint.system are required
    assert _codes(spec.bindings("Identifier")["use"]["valueSet"]) == {
        "usual", "official", "temp", "secondary", "old"}
    assert "phone" in _codes(spec.bindings("ContactPoint")["system"]["valueSet"])
    assert "maiden" in _codes(spec.bindings("HumanName")["use"]["valueSet"])
    assert "billing" in _codes(spec.bindings("Address")["use"]["valueSet"])
    assert _codes(spec.bindings("Quantity")["comparator"]["valueSet"]) == {"<", "<=", ">=", ">"}
    assert "generated" in _codes(spec.bindings("Narrative")["status"]["valueSet"])
    assert spec.bindings("Patient")["identifier"] == {"type": "Identifier"}


def test_coded_required_bindings_keep_their_system() -> None:
    # FHIR R4 adverseevent.html: AdverseEvent.severity (CodeableConcept) is bound (required)
    severity = spec.bindings("AdverseEvent")["severity"]
    assert severity["type"] == "CodeableConcept"
    assert spec.value_set_codes(severity["valueSet"]) == {
        "http://terminology.hl7.org/CodeSystem/adverse-event-severity":
            ["mild", "moderate", "severe"]}


def test_value_sets_built_from_several_systems_or_explicit_concepts() -> None:
    # FHIR R4 valueset.html: compose.include takes whole systems or listed concepts
    timing = spec.value_set_codes("http://hl7.org/fhir/ValueSet/event-timing")
    assert {"MORN", "AFT"} <= set(timing["http://hl7.org/fhir/event-timing"])
    assert "HS" in timing["http://terminology.hl7.org/CodeSystem/v3-TimingEvent"]
    units = spec.value_set_codes("http://hl7.org/fhir/ValueSet/units-of-time")
    assert units == {"http://unitsofmeasure.org": ["a", "d", "h", "min", "mo", "s", "wk"]}
    all_types = _codes("http://hl7.org/fhir/ValueSet/all-types")
    assert {"Patient", "string", "Resource", "BackboneElement"} <= all_types


def test_bindings_that_cannot_be_enumerated_are_reported() -> None:
    # FHIR R4 terminologies.html: MIME types (BCP 13), currencies (ISO 4217), UCUM units and a
    # LOINC answer list (MolecularSequence) are external
    skipped = spec._load("bindings.json")["skippedValueSets"]
    assert set(skipped) == {"http://hl7.org/fhir/ValueSet/mimetypes",
                            "http://hl7.org/fhir/ValueSet/currencies",
                            "http://hl7.org/fhir/ValueSet/ucum-units",
                            "http://loinc.org/vs/LL379-9"}
    assert "Attachment.contentType" in skipped["http://hl7.org/fhir/ValueSet/mimetypes"][
        "elements"]
    assert spec.bindings("Attachment").get("contentType") is None


def test_reference_targets_come_from_target_profiles() -> None:
    # FHIR R4 references.html: Reference(Patient) limits what the reference may point to
    assert spec.bindings("Immunization")["patient"] == {"type": "Reference",
                                                        "targets": ["Patient"]}
    assert spec.bindings("Patient")["generalPractitioner"]["targets"] == [
        "Organization", "Practitioner", "PractitionerRole"]
    assert spec.bindings("Immunization.protocolApplied")["authority"]["targets"] == [
        "Organization"]
    assert spec.bindings("Identifier")["assigner"]["targets"] == ["Organization"]
    assert "targets" not in spec.bindings("AuditEvent.entity")["what"]  # Reference(Any)


def test_choice_elements_expand_to_one_property_per_type() -> None:
    # FHIR R4 formats.html#choice: value[x] is serialised as valueCoding, valueReference...
    answer = spec.bindings("QuestionnaireResponse.item.answer")
    assert answer["valueCoding"] == {"type": "Coding"}
    assert answer["valueReference"] == {"type": "Reference"}
    assert answer["valueQuantity"] == {"type": "Quantity"}
    assert "valueString" not in answer  # primitives without a binding need no rule
    assert spec.bindings("Extension")["valueIdentifier"] == {"type": "Identifier"}


def test_backbone_and_content_references_resolve_to_type_keys() -> None:
    # FHIR R4 elementdefinition.html#contentReference: Questionnaire.item.item reuses .item
    assert spec.bindings("Questionnaire")["item"] == {"type": "Questionnaire.item"}
    assert spec.bindings("Questionnaire.item")["item"] == {"type": "Questionnaire.item"}
    assert spec.bindings("Patient")["contact"] == {"type": "Patient.contact"}
    assert spec.bindings("Patient.contact")["gender"]["valueSet"] == GENDER
    assert spec.bindings("Patient")["contained"] == {"type": "Resource"}
    assert spec.bindings("Timing")["repeat"] == {"type": "Timing.repeat"}


def test_resource_type_names_are_the_concrete_resources() -> None:
    # FHIR R4 codesystem-resource-types.html: 146 concrete types, Resource/DomainResource abstract
    names = spec.resource_type_names()
    assert len(names) == 146
    assert set(RESOURCE_TYPES) <= names
    assert {"Observation", "Bundle", "Parameters", "Binary"} <= names
    assert not {"Resource", "DomainResource"} & names


def test_bindings_file_stays_small() -> None:
    # committed data: keep it compact
    assert (spec.SPEC_DIR / "bindings.json").stat().st_size < 2_000_000

"""Every rule of every Vietnamese profile, broken once: the issue has the expected severity,
IssueType code and FHIRPath `expression` (FHIR R4 validation.html, operationoutcome.html;
elementdefinition.html for min/max, fixed[x], pattern[x], binding strength, constraint).

VIOLATIONS is shared with the API tests (POST -> 422 / $validate).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import pytest

from fhir_server.settings import Settings
from fhir_server.validation.profiles import ProfileChecker, profile_checker
from tests.validation.test_profile_fixtures import (
    SERIOUSNESS,
    VN_IMMUNIZATION,
    VN_PATIENT,
    changed,
    commune,
    province,
)

CS = "https://fhir.moh.gov.vn/terminology/CodeSystem"


@dataclass(frozen=True)
class Violation:
    """One broken rule and the issue it must produce."""

    rule: str
    example: str
    change: Callable[[dict[str, Any]], Any]
    severity: str
    code: str
    expression: str
    text: str = ""  # a fragment of the diagnostics

    def resource(self) -> dict[str, Any]:
        """The example with the rule broken."""
        return changed(self.example, self.change)


def _identifier(index: int, value: str) -> Callable[[dict[str, Any]], Any]:
    return lambda r: r["identifier"][index].update(value=value)


def _drop(*keys: str) -> Callable[[dict[str, Any]], Any]:
    return lambda r: [r.pop(key) for key in keys]


def _address_extensions(*extensions: dict[str, Any]) -> Callable[[dict[str, Any]], Any]:
    return lambda r: r["address"][0].update(extension=list(extensions))


VIOLATIONS = [
    # VN Patient
    Violation("name 1..*", "patient", _drop("name"), "error", "required", "Patient.name"),
    Violation("gender 1..1", "patient", _drop("gender"), "error", "required", "Patient.gender"),
    Violation("birthDate 1..1", "patient", _drop("birthDate"), "error", "required",
              "Patient.birthDate"),
    Violation("identifier 1..*", "patient", _drop("identifier"), "error", "required",
              "Patient.identifier"),
    Violation("vn-pat-1 CCCD 12 digits", "patient", _identifier(0, "00108501234"), "error",
              "invariant", "Patient.identifier[0]", "vn-pat-1"),
    Violation("vn-pat-2 CMND 9 digits", "patient", _identifier(3, "01234567"), "error",
              "invariant", "Patient.identifier[3]", "vn-pat-2"),
    Violation("vn-pat-3 BHYT format", "patient", _identifier(1, "DN6010123456789"), "error",
              "invariant", "Patient.identifier[1]", "vn-pat-3"),
    Violation("vn-pat-4 BHXH 10 digits", "patient", _identifier(2, "012345678"), "error",
              "invariant", "Patient.identifier[2]", "vn-pat-4"),
    Violation("vn-pat-5 passport", "patient", _identifier(4, "1234567"), "error", "invariant",
              "Patient.identifier[4]", "vn-pat-5"),
    Violation("vn-pat-6 CCCD province code", "patient", _identifier(0, "003085012345"), "error",
              "business-rule", "Patient.identifier[0].value", "not a province code"),
    Violation("vn-pat-6 CCCD sex digit", "patient", lambda r: r.update(gender="female"),
              "error", "business-rule", "Patient.identifier[0].value", "gender is female"),
    Violation("vn-pat-6 CCCD century", "patient", _identifier(0, "001285012345"), "error",
              "business-rule", "Patient.identifier[0].value", "births in 2000-2099"),
    Violation("vn-pat-6 CCCD year", "patient", _identifier(0, "001095012345"), "error",
              "business-rule", "Patient.identifier[0].value", "digits 5-6"),
    Violation("vn-pat-7 name content", "patient", lambda r: r.update(name=[{"use": "official"}]),
              "error", "invariant", "Patient.name[0]", "vn-pat-7"),
    Violation("vn-pat-8 E.164", "patient", lambda r: r["telecom"][0].update(value="0912345678"),
              "error", "invariant", "Patient.telecom[0]", "vn-pat-8"),
    Violation("vn-pat-9 province code", "patient", _address_extensions(commune()), "error",
              "invariant", "Patient.address[0]", "vn-pat-9"),
    Violation("vn-pat-10 commune code", "patient", _address_extensions(province()), "error",
              "invariant", "Patient.address[0]", "vn-pat-10"),
    Violation("vn-pat-11 commune in province", "patient",
              _address_extensions(province("79"), commune()), "error", "business-rule",
              "Patient.address[0].extension", "lies in province 01"),
    Violation("province binding (required)", "patient",
              _address_extensions(province("99"), commune()), "error", "code-invalid",
              "Patient.address[0].extension[0].valueCoding", "vn-province"),
    Violation("commune binding (required)", "patient",
              _address_extensions(province(), commune("99999")), "error", "code-invalid",
              "Patient.address[0].extension[1].valueCoding", "vn-commune"),
    Violation("province value[x] is Coding", "patient", _address_extensions(
        {"url": province()["url"], "valueString": "01"}, commune()), "error", "structure",
        "Patient.address[0].extension[0].valueString", "valueString is not allowed"),
    Violation("province slice 0..1", "patient", _address_extensions(
        province(), province(), commune()), "error", "structure", "Patient.address[0].extension",
        "at most 1"),
    # VN Immunization
    Violation("status binding (required)", "immunization",
              lambda r: r.update(status="entered-in-error"), "error", "code-invalid",
              "Immunization.status", "vn-immunization-status"),
    Violation("vaccineCode binding (required)", "immunization", lambda r: r.update(
        vaccineCode={"coding": [{"system": "http://hl7.org/fhir/sid/cvx", "code": "207"}]}),
        "error", "code-invalid", "Immunization.vaccineCode.coding[0]", "vn-covid19-vaccine"),
    Violation("vaccineCode needs a code", "immunization",
              lambda r: r.update(vaccineCode={"text": "AstraZeneca"}), "error", "code-invalid",
              "Immunization.vaccineCode", "is needed"),
    Violation("vn-imm-1 lot number", "immunization", _drop("lotNumber"), "error", "invariant",
              "Immunization", "vn-imm-1"),
    Violation("vn-imm-2 reason not done", "immunization", lambda r: r.update(status="not-done"),
              "warning", "invariant", "Immunization", "vn-imm-2"),
    Violation("occurrence[x] is dateTime", "immunization", lambda r: r.update(
        occurrenceString="August 2021") or r.pop("occurrenceDateTime"), "error", "structure",
        "Immunization.occurrenceString"),
    Violation("location 1..1", "immunization", _drop("location"), "error", "required",
              "Immunization.location"),
    Violation("performer 1..*", "immunization", _drop("performer"), "error", "required",
              "Immunization.performer"),
    Violation("protocolApplied 1..*", "immunization", _drop("protocolApplied"), "error",
              "required", "Immunization.protocolApplied"),
    Violation("doseNumber[x] is positiveInt", "immunization", lambda r: r.update(
        protocolApplied=[{"doseNumberString": "first"}]), "error", "structure",
        "Immunization.protocolApplied[0].doseNumberString"),
    # VN AdverseEvent
    Violation("actuality fixed 'actual'", "adverse_event",
              lambda r: r.update(actuality="potential"), "error", "value",
              "AdverseEvent.actuality", '"actual"'),
    Violation("event 1..1", "adverse_event", _drop("event"), "error", "required",
              "AdverseEvent.event"),
    Violation("event binding (extensible)", "adverse_event", lambda r: r.update(event={
        "coding": [{"system": "http://snomed.info/sct", "code": "386661006"}]}), "warning",
        "code-invalid", "AdverseEvent.event.coding[0]", "extensible"),
    Violation("subject is a Patient", "adverse_event",
              lambda r: r.update(subject={"reference": "Group/g1"}), "error", "invalid",
              "AdverseEvent.subject.reference", "Group"),
    Violation("date (onset) 1..1", "adverse_event", _drop("date"), "error", "required",
              "AdverseEvent.date"),
    Violation("seriousness 1..1", "adverse_event", _drop("seriousness"), "error", "required",
              "AdverseEvent.seriousness"),
    Violation("seriousness binding (required)", "adverse_event", lambda r: r.update(
        seriousness={"coding": [{"system": SERIOUSNESS, "code": "mild"}]}), "error",
        "code-invalid", "AdverseEvent.seriousness.coding[0]"),
    Violation("suspectEntity 1..*", "adverse_event", _drop("suspectEntity"), "error",
              "required", "AdverseEvent.suspectEntity"),
    Violation("suspectEntity.instance is an Immunization", "adverse_event", lambda r: r.update(
        suspectEntity=[{"instance": {"reference": "Medication/m1"}}]), "error", "invalid",
        "AdverseEvent.suspectEntity[0].instance.reference", "Medication"),
    Violation("vn-ae-1 serious reaction", "adverse_event", lambda r: r["event"]["coding"][0]
              .update(code="phan-ve"), "warning", "invariant", "AdverseEvent", "vn-ae-1"),
    # VN Appointment (vaccination registration)
    Violation("serviceType pattern", "appointment_vaccination", lambda r: r.update(
        serviceType=[{"coding": [{"system": "http://snomed.info/sct", "code": "11429006"}]}]),
        "error", "value", "Appointment.serviceType[0]", "pattern"),
    Violation("serviceType 1..1", "appointment_vaccination", lambda r: r["serviceType"].append(
        r["serviceType"][0]), "error", "structure", "Appointment.serviceType", "maximum"),
    Violation("start 1..1 (registration)", "appointment_vaccination", _drop("start", "end"),
              "error", "required", "Appointment.start"),
    Violation("vn-appt-1 patient participant", "appointment_vaccination",
              lambda r: r["participant"].pop(0), "error", "invariant", "Appointment",
              "vn-appt-1"),
    Violation("vn-appt-2 site participant", "appointment_vaccination",
              lambda r: r["participant"].pop(1), "error", "invariant", "Appointment",
              "vn-appt-2"),
    Violation("priority group binding (required)", "appointment_vaccination",
              lambda r: r["extension"][0]["valueCoding"].update(code="99"), "error",
              "code-invalid", "Appointment.extension[0].valueCoding", "priority-group"),
    # VN Appointment (medical booking)
    Violation("appointmentType 1..1", "appointment_booking", _drop("appointmentType"), "error",
              "required", "Appointment.appointmentType"),
    Violation("appointmentType binding (extensible)", "appointment_booking", lambda r: r.update(
        appointmentType={"coding": [{"system": "http://snomed.info/sct", "code": "185389009"}]}),
        "warning", "code-invalid", "Appointment.appointmentType.coding[0]"),
    Violation("serviceType 1..* (booking)", "appointment_booking", _drop("serviceType"),
              "error", "required", "Appointment.serviceType"),
    Violation("end 1..1 (booking)", "appointment_booking", _drop("end"), "error", "required",
              "Appointment.end"),
    Violation("vn-book-1 patient participant", "appointment_booking",
              lambda r: r["participant"].pop(0), "error", "invariant", "Appointment",
              "vn-book-1"),
    Violation("vn-book-2 provider participant", "appointment_booking",
              lambda r: r["participant"].pop(1), "error", "invariant", "Appointment",
              "vn-book-2"),
]


def matching(issues: list[dict[str, Any]], violation: Violation) -> list[dict[str, Any]]:
    """The rendered issues that are the one the violation must produce."""
    return [i for i in issues if i["severity"] == violation.severity
            and i["code"] == violation.code and i.get("expression") == [violation.expression]
            and violation.text in i["diagnostics"]]


@pytest.fixture(scope="module")
def checker() -> ProfileChecker:
    """The checker with the default settings."""
    return profile_checker(Settings())


@pytest.mark.parametrize("violation", VIOLATIONS, ids=[v.rule for v in VIOLATIONS])
def test_violation(checker: ProfileChecker, violation: Violation) -> None:
    issues = [issue.to_fhir() for issue in checker.check(violation.resource())]
    assert matching(issues, violation), issues
    assert all(i["severity"] == "warning" for i in issues) == (violation.severity == "warning")


def test_unknown_profile_is_an_error(checker: ProfileChecker) -> None:
    resource = changed("patient", lambda r: r["meta"].update(
        profile=["https://example.org/StructureDefinition/nope"]))
    [issue] = [i.to_fhir() for i in checker.check(resource)]
    assert (issue["severity"], issue["code"], issue["expression"]) == (
        "error", "not-found", ["Patient.meta.profile[0]"])
    assert VN_PATIENT in str(issue["diagnostics"])


def test_core_profile_claims_are_a_warning(checker: ProfileChecker) -> None:
    """Official examples claim base-spec profiles (e.g. shareablevalueset): not checked."""
    url = "http://hl7.org/fhir/StructureDefinition/shareablevalueset"
    resource = changed("patient", lambda r: r["meta"].update(profile=[url]))
    [issue] = [i.to_fhir() for i in checker.check(resource)]
    assert (issue["severity"], issue["code"]) == ("warning", "not-supported")


def test_profile_of_another_type(checker: ProfileChecker) -> None:
    resource = changed("patient", lambda r: r["meta"].update(profile=[VN_IMMUNIZATION]))
    [issue] = [i.to_fhir() for i in checker.check(resource)]
    assert (issue["code"], issue["expression"]) == ("invalid", ["Patient.meta.profile[0]"])


def test_versioned_canonical_is_accepted(checker: ProfileChecker) -> None:
    resource = changed("patient", lambda r: r["meta"].update(profile=[VN_PATIENT + "|0.1.0"]))
    assert checker.check(resource) == []


def test_unclaimed_resources_are_not_profiled(checker: ProfileChecker) -> None:
    resource = changed("patient", lambda r: r.pop("meta") and r.pop("gender"))
    assert checker.check(resource) == []


def test_required_profiles() -> None:
    strict = profile_checker(Settings(required_profiles=("Patient", "Appointment")))
    unclaimed = changed("patient", lambda r: r.pop("meta"))
    [issue] = [i.to_fhir() for i in strict.check(unclaimed)]
    assert (issue["code"], issue["expression"]) == ("processing", ["Patient.meta.profile"])
    assert strict.check(changed("patient", lambda r: None)) == []
    assert strict.check(changed("immunization", lambda r: r.pop("meta"))) == []
    booking = changed("appointment_booking", lambda r: None)
    assert strict.check(booking) == []
    with pytest.raises(ValueError, match="Observation"):
        profile_checker(Settings(required_profiles=("Observation",)))


def test_identifier_systems_are_configurable() -> None:
    other = profile_checker(Settings(cccd_system="https://id.example.vn/cccd"))
    moved = changed("patient", lambda r: r["identifier"][0].update(
        system="https://id.example.vn/cccd", value="12345"))
    assert [i.expression for i in other.check(moved)] == [("Patient.identifier[0]",)]
    old_system = changed("patient", _identifier(0, "12345"))
    assert other.check(old_system) == []
    with pytest.raises(ValueError, match="FHIR_SYSTEM_BHYT"):
        profile_checker(Settings(bhyt_system="urn:x'y"))

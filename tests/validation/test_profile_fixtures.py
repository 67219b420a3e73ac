"""Conformant instances of each Vietnamese profile (shared by the profile tests), and the check
that they conform (FHIR R4 profiling.html "Claiming conformance": meta.profile)."""

from __future__ import annotations

import copy
from collections.abc import Callable
from typing import Any

import pytest

from fhir_server.settings import Settings
from fhir_server.validation.profiles import ProfileChecker, profile_checker

SD = "https://fhir.moh.gov.vn/fhir/StructureDefinition"
CS = "https://fhir.moh.gov.vn/terminology/CodeSystem"
QUESTIONNAIRE = "https://fhir.moh.gov.vn/fhir/Questionnaire"
VN_PATIENT = f"{SD}/vn-patient"
VN_IMMUNIZATION = f"{SD}/vn-immunization"
VN_ADVERSE_EVENT = f"{SD}/vn-adverse-event-immunization"
VN_APPOINTMENT_VACCINATION = f"{SD}/vn-appointment-vaccination"
VN_APPOINTMENT_BOOKING = f"{SD}/vn-appointment-booking"
SERIOUSNESS = "http://terminology.hl7.org/CodeSystem/adverse-event-seriousness"
SEVERITY = "http://terminology.hl7.org/CodeSystem/adverse-event-severity"


def province(code: str = "01") -> dict[str, Any]:
    """The province extension of an address."""
    return {"url": f"{SD}/vn-address-province",
            "valueCoding": {"system": f"{CS}/vn-province", "code": code}}


def commune(code: str = "00004") -> dict[str, Any]:
    """The commune extension of an address (00004: Phường Ba Đình, Hà Nội)."""
    return {"url": f"{SD}/vn-address-commune",
            "valueCoding": {"system": f"{CS}/vn-commune", "code": code}}


def patient() -> dict[str, Any]:
    """A VN Patient with every kind of identifier (CCCD 001 0 85: Hà Nội, male, 1985)."""
    return {"resourceType": "Patient", "meta": {"profile": [VN_PATIENT]},
            "identifier": [{"system": "urn:vn:cccd", "value": "001085012345"},
                           {"system": "urn:vn:bhyt", "value": "DN4010123456789"},
                           {"system": "urn:vn:bhxh", "value": "0123456789"},
                           {"system": "urn:vn:cmnd", "value": "012345678"},
                           {"system": "urn:vn:passport", "value": "C1234567"}],
            "name": [{"family": "Nguyễn", "given": ["Văn", "An"]}],
            "telecom": [{"system": "phone", "value": "+84912345678", "use": "mobile"}],
            "gender": "male", "birthDate": "1985-03-12",
            "address": [{"line": ["12 Phố Huế"], "city": "Hà Nội", "country": "VN",
                         "extension": [province(), commune()]}]}


def immunization() -> dict[str, Any]:
    """A VN Immunization: first dose of AstraZeneca at a site."""
    return {"resourceType": "Immunization", "meta": {"profile": [VN_IMMUNIZATION]},
            "status": "completed",
            "vaccineCode": {"coding": [{"system": f"{CS}/vn-covid19-vaccine",
                                        "code": "astrazeneca"}]},
            "patient": {"reference": "Patient/p1"},
            "occurrenceDateTime": "2021-08-01T09:00:00+07:00", "lotNumber": "ABV1234",
            "location": {"reference": "Location/site-1"},
            "performer": [{"actor": {"reference": "Practitioner/pr1"}}],
            "protocolApplied": [{"doseNumberPositiveInt": 1}]}


def adverse_event() -> dict[str, Any]:
    """A VN post-vaccination reaction: fever, non-serious."""
    return {"resourceType": "AdverseEvent", "meta": {"profile": [VN_ADVERSE_EVENT]},
            "actuality": "actual",
            "event": {"coding": [{"system": f"{CS}/vn-post-vaccination-reaction",
                                  "code": "sot"}]},
            "subject": {"reference": "Patient/p1"}, "date": "2021-08-01T20:00:00+07:00",
            "seriousness": {"coding": [{"system": SERIOUSNESS, "code": "non-serious"}]},
            "suspectEntity": [{"instance": {"reference": "Immunization/i1"}}]}


def appointment_vaccination() -> dict[str, Any]:
    """A VN vaccination registration of priority group 1."""
    return {"resourceType": "Appointment", "meta": {"profile": [VN_APPOINTMENT_VACCINATION]},
            "extension": [{"url": f"{SD}/vn-priority-group", "valueCoding": {
                "system": f"{CS}/vn-covid19-priority-group", "code": "1"}}],
            "status": "booked",
            "serviceType": [{"coding": [{"system": "http://snomed.info/sct",
                                         "code": "33879002"}]}],
            "start": "2021-08-10T08:00:00+07:00", "end": "2021-08-10T08:15:00+07:00",
            "participant": [{"actor": {"reference": "Patient/p1"}, "status": "accepted"},
                            {"actor": {"reference": "Location/site-1"}, "status": "accepted"}]}


def appointment_booking() -> dict[str, Any]:
    """A VN medical booking with a practitioner."""
    return {"resourceType": "Appointment", "meta": {"profile": [VN_APPOINTMENT_BOOKING]},
            "status": "booked",
            "appointmentType": {"coding": [{"system":
                                            "http://terminology.hl7.org/CodeSystem/v2-0276",
                                            "code": "ROUTINE"}]},
            "serviceType": [{"text": "Khám nội tổng quát"}],
            "start": "2021-09-01T08:00:00+07:00", "end": "2021-09-01T08:30:00+07:00",
            "participant": [{"actor": {"reference": "Patient/p1"}, "status": "accepted"},
                            {"actor": {"reference": "Practitioner/pr1"},
                             "status": "accepted"}]}


EXAMPLES: dict[str, Callable[[], dict[str, Any]]] = {
    "patient": patient, "immunization": immunization, "adverse_event": adverse_event,
    "appointment_vaccination": appointment_vaccination,
    "appointment_booking": appointment_booking,
}


def changed(name: str, change: Callable[[dict[str, Any]], Any]) -> dict[str, Any]:
    """A fresh example with one change applied."""
    resource = copy.deepcopy(EXAMPLES[name]())
    change(resource)
    return resource


@pytest.fixture(scope="module")
def checker() -> ProfileChecker:
    """The checker with the default settings."""
    return profile_checker(Settings())


@pytest.mark.parametrize("name", sorted(EXAMPLES))
def test_examples_conform(checker: ProfileChecker, name: str) -> None:
    assert checker.check(EXAMPLES[name]()) == []


def test_foreign_address_needs_no_codes(checker: ProfileChecker) -> None:
    resource = changed("patient", lambda r: r.update(address=[{"city": "Paris",
                                                               "country": "FR"}]))
    assert checker.check(resource) == []


@pytest.mark.parametrize("value", ["DN4010123456789", "0123456789", "001085012345"])
def test_bhyt_accepts_card_bhxh_or_cccd_numbers(checker: ProfileChecker, value: str) -> None:
    resource = changed("patient", lambda r: r["identifier"][1].update(value=value))
    assert checker.check(resource) == []

"""The campaign's own SearchParameters (profiles/searchparameters/vn-patient-province,
vn-patient-commune, vn-appointment-priority-group; FHIR R4 searchparameter.html): token
parameters on the address and registration extensions, chained from Immunization
(search.html#chaining) and reverse-chained from Patient (search.html#has)."""

from __future__ import annotations

from typing import Any

from fhir_server.search.custom import custom_parameters_for
from fhir_server.search.registry import lookup
from tests.search.conftest import SearchBed

SD = "https://fhir.moh.gov.vn/fhir/StructureDefinition"
CS = "https://fhir.moh.gov.vn/terminology/CodeSystem"


def _patient(province: str, commune: str) -> dict[str, Any]:
    return {"resourceType": "Patient", "address": [{"extension": [
        {"url": f"{SD}/vn-address-province",
         "valueCoding": {"system": f"{CS}/vn-province", "code": province}},
        {"url": f"{SD}/vn-address-commune",
         "valueCoding": {"system": f"{CS}/vn-commune", "code": commune}}], "country": "VN"}]}


def _dose(patient: str) -> dict[str, Any]:
    return {"resourceType": "Immunization", "status": "completed",
            "vaccineCode": {"coding": [{"system": f"{CS}/vn-covid19-vaccine",
                                        "code": "astrazeneca"}]},
            "patient": {"reference": f"Patient/{patient}"}, "occurrenceDateTime": "2021-08-01"}


def _registration(patient: str, group: str) -> dict[str, Any]:
    return {"resourceType": "Appointment", "status": "proposed",
            "extension": [{"url": f"{SD}/vn-priority-group", "valueCoding": {
                "system": f"{CS}/vn-covid19-priority-group", "code": group}}],
            "participant": [{"actor": {"reference": f"Patient/{patient}"},
                             "status": "needs-action"}]}


def test_parameters_are_supported_tokens() -> None:
    assert set(custom_parameters_for("Appointment")) == {"priority-group"}
    for type_name, code, pid in (("Patient", "province", "vn-patient-province"),
                                 ("Patient", "commune", "vn-patient-commune"),
                                 ("Appointment", "priority-group",
                                  "vn-appointment-priority-group")):
        param = lookup(type_name, code)
        assert param is not None and param.kind == "token" and param.supported
        assert param.url.endswith(f"/SearchParameter/{pid}")


def test_province_commune_group_and_chains(bed: SearchBed) -> None:
    hanoi = bed.add(_patient("01", "00004"))
    hcm = bed.add(_patient("79", "26734"))
    doses = {bed.add(_dose(hanoi)): hanoi, bed.add(_dose(hcm)): hcm}
    elderly = bed.add(_registration(hanoi, "9"))
    bed.add(_registration(hcm, "1"))
    assert bed.ids("Patient", "province=01") >= {hanoi}
    assert hcm not in bed.ids("Patient", "province=01")
    assert hanoi in bed.ids("Patient", f"province={CS}/vn-province|01")
    assert hanoi not in bed.ids("Patient", "province=urn:other|01")
    assert hcm in bed.ids("Patient", "commune=26734")
    hanoi_doses = bed.ids("Immunization", "patient.province=01")
    assert {d for d, p in doses.items() if p == hanoi} <= hanoi_doses
    assert not {d for d, p in doses.items() if p == hcm} & hanoi_doses
    assert {d for d, p in doses.items() if p == hcm} <= bed.ids("Immunization",
                                                               "patient.commune=26734")
    assert elderly in bed.ids("Appointment", "priority-group=9")
    assert elderly in bed.ids("Appointment", "priority-group=9&patient.province=01")
    assert bed.ids("Appointment", "priority-group=9&patient.province=79") == set()
    assert hanoi in bed.ids("Patient", "province=01&_has:Appointment:patient:priority-group=9")
    assert hcm not in bed.ids("Patient", "_has:Appointment:patient:priority-group=9")

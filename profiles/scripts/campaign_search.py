"""SearchParameters for planning by target group and area (issue 15 point 2; R4
searchparameter.html, search.html#chaining): Patient `province` and `commune` (the 2025 codes
of the vn-address-province / vn-address-commune extensions) and Appointment `priority-group`
(the vn-priority-group extension of a vaccination registration). Being Patient parameters, the
province and commune chain from every resource that references a Patient:
`Immunization?patient.province=01`, `Appointment?patient.commune=00004`."""

from __future__ import annotations

from typing import Any

from common import BASE, SD, common


def _extension_parameter(pid: str, name: str, code: str, base: str, extension: str,
                         description: str) -> dict[str, Any]:
    return {
        "resourceType": "SearchParameter", "id": pid, "url": f"{BASE}/SearchParameter/{pid}",
        "name": name, **common(), "description": description, "code": code, "base": [base],
        "type": "token",
        "expression": f"{base}.{'address.' if base == 'Patient' else ''}extension.where("
                      f"url='{SD}/{extension}').value",
        "xpathUsage": "normal"}


def campaign_search_parameters() -> list[dict[str, Any]]:
    """Patient province and commune, Appointment priority-group."""
    return [
        _extension_parameter(
            "vn-patient-province", "VnPatientProvince", "province", "Patient",
            "vn-address-province",
            "The 2025 province of any of the person's addresses (extension vn-address-province), "
            "e.g. province=01 (Hà Nội), with or without the code system; chained from the "
            "resources that reference a Patient: Immunization?patient.province=01."),
        _extension_parameter(
            "vn-patient-commune", "VnPatientCommune", "commune", "Patient",
            "vn-address-commune",
            "The 2025 commune of any of the person's addresses (extension vn-address-commune), "
            "e.g. commune=00004 (Phường Ba Đình); chained: Immunization?patient.commune=00004."),
        _extension_parameter(
            "vn-appointment-priority-group", "VnAppointmentPriorityGroup", "priority-group",
            "Appointment", "vn-priority-group",
            "The priority group of a vaccination registration (extension vn-priority-group, "
            "QĐ 3355/QĐ-BYT codes), e.g. priority-group=9; people of a group: "
            "Patient?_has:Appointment:patient:priority-group=9."),
    ]

"""Vaccination registration (Đăng ký tiêm chủng) behind Appointment/$register-vaccination.

A citizen registers themself or a linked family member: birth date, gender and BHYT card
(filled into the Patient when missing; a value that differs from the record is refused), the
target group (a code of ValueSet vn-covid19-priority-group), the preferred date and the site.
The result is a proposed Appointment claiming profile vn-appointment-vaccination (FHIR R4
appointment.html: "proposed - Some or all of the participant(s) have not finalized their
acceptance"): serviceType SNOMED CT 33879002, the group as the profile's priorityGroup
extension and as `reasonCode` (so sites search it: `reason-code=`), the preferred day as
`requestedPeriod` (08:00-17:00 Vietnam time) and `start`, the Patient and the site (Location)
as participants, and the identifier {REGISTRATION_SYSTEM, campaign/patient}. One registration
per person and campaign while it is not cancelled: checked and claimed inside the transaction
that writes it (409 at `patient`). Patient and Appointment are written together through the
caller's Repository, so a citizen acts only for their own and their family's records.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from fhir_server.errors import Conflict, Gone, InvalidRequest, NotFound, Unprocessable
from fhir_server.interactions import crud
from fhir_server.interactions.context import Services
from fhir_server.scheduling.booking import VACCINATION
from fhir_server.storage.base import StoredVersion
from fhir_server.terminology.service import validate_code

PROFILE = "https://fhir.moh.gov.vn/fhir/StructureDefinition/vn-appointment-vaccination"
PRIORITY_EXTENSION = "https://fhir.moh.gov.vn/fhir/StructureDefinition/vn-priority-group"
PRIORITY_VALUESET = "https://fhir.moh.gov.vn/terminology/ValueSet/vn-covid19-priority-group"
PRIORITY_SYSTEM = "https://fhir.moh.gov.vn/terminology/CodeSystem/vn-covid19-priority-group"
REGISTRATION_SYSTEM = "urn:fhir-server:registration"
DEFAULT_CAMPAIGN = "covid19-2021"
GENDERS = ("male", "female", "other", "unknown")
DONE = frozenset({"cancelled", "entered-in-error", "noshow"})


@dataclass(frozen=True)
class Registration:
    """What the citizen sends."""

    patient_id: str
    site_id: str
    group: str
    preferred: date
    birth_date: str | None = None
    gender: str | None = None
    bhyt: str | None = None
    campaign: str = DEFAULT_CAMPAIGN


def check_group(code: str) -> dict[str, Any]:
    """The Coding of a priority-group code (422 at `priorityGroup` when not in the set)."""
    if not code or len(code) > 64:
        raise InvalidRequest.at("priorityGroup is required", "priorityGroup", "required")
    found = validate_code(PRIORITY_VALUESET, code, PRIORITY_SYSTEM)
    if not found.get("result"):
        raise Unprocessable.at(f"'{code}' is not a group of ValueSet {PRIORITY_VALUESET}",
                               "priorityGroup", "code-invalid")
    coding = {"system": PRIORITY_SYSTEM, "code": code}
    if found.get("display"):
        coding["display"] = str(found["display"])
    return coding


def parse_day(value: Any, name: str = "preferredDate") -> date:
    """A FHIR date (YYYY-MM-DD) input (400 at its name otherwise)."""
    try:
        return date.fromisoformat(str(value))
    except ValueError:
        raise InvalidRequest.at(f"'{name}' is a date (YYYY-MM-DD)", name, "value") from None


def _merged_patient(patient: dict[str, Any], reg: Registration, bhyt_system: str
                    ) -> dict[str, Any] | None:
    """The Patient with the missing fields filled in; None when nothing changes."""
    changed = dict(patient)
    for name, field in (("birthDate", reg.birth_date), ("gender", reg.gender)):
        if field is None:
            continue
        if patient.get(name) not in (None, field):
            raise Unprocessable.at(f"{name} {field} differs from the Patient record "
                                   f"({patient.get(name)})", name, "business-rule")
        changed[name] = field
    if reg.bhyt is not None:
        cards = [i for i in patient.get("identifier") or [] if i.get("system") == bhyt_system]
        if cards and all(card.get("value") != reg.bhyt for card in cards):
            raise Unprocessable.at("bhyt differs from the BHYT card on the Patient record",
                                   "bhyt", "business-rule")
        if not cards:
            changed["identifier"] = [*(patient.get("identifier") or []),
                                     {"system": bhyt_system, "value": reg.bhyt}]
    return None if changed == patient else changed


def appointment(reg: Registration, group: dict[str, Any], now: datetime) -> dict[str, Any]:
    """The proposed Appointment of a registration."""
    day = reg.preferred.isoformat()
    concept = {"coding": [group]}
    return {
        "resourceType": "Appointment", "meta": {"profile": [PROFILE]}, "status": "proposed",
        "identifier": [{"system": REGISTRATION_SYSTEM,
                        "value": f"{reg.campaign}/{reg.patient_id}"}],
        "extension": [{"url": PRIORITY_EXTENSION, "valueCoding": group}],
        "serviceType": [{"coding": [{"system": VACCINATION[0], "code": VACCINATION[1],
                                     "display": "Administration of vaccine"}]}],
        "reasonCode": [concept], "description": f"Đăng ký tiêm chủng ({reg.campaign})",
        "start": f"{day}T08:00:00+07:00",  # opening time: the same day in UTC and in Vietnam
        "requestedPeriod": [{"start": f"{day}T08:00:00+07:00", "end": f"{day}T17:00:00+07:00"}],
        "created": now.isoformat(),
        "participant": [
            {"actor": {"reference": f"Patient/{reg.patient_id}"}, "status": "accepted"},
            {"actor": {"reference": f"Location/{reg.site_id}"}, "status": "needs-action"}]}


def register(svc: Services, reg: Registration, now: datetime) -> StoredVersion:
    """Write the registration (and the Patient's missing fields) in one transaction."""
    if reg.gender is not None and reg.gender not in GENDERS:
        raise InvalidRequest.at(f"gender is one of {', '.join(GENDERS)}", "gender",
                                "code-invalid")
    if reg.preferred < now.date():
        raise Unprocessable.at("preferredDate is in the past", "preferredDate",
                               "business-rule")
    group = check_group(reg.group)
    try:
        svc.store.read("Location", reg.site_id)
    except (NotFound, Gone):
        raise Unprocessable.at(f"Location/{reg.site_id} is not a known site", "site",
                               "not-found") from None
    patient = crud.read(svc, "Patient", reg.patient_id)
    key = f"{REGISTRATION_SYSTEM}|{reg.campaign}/{reg.patient_id}"
    resource = appointment(reg, group, now)

    def unique() -> None:
        existing = svc.search.criteria_for("Appointment", [("identifier", key)])
        if any((v.resource or {}).get("status") not in DONE
               for v in svc.store.find("Appointment", existing, limit=50)):
            raise Conflict.at(f"Patient/{reg.patient_id} is already registered for "
                              f"{reg.campaign}", "patient")

    def unit() -> StoredVersion:
        svc.store.claim(f"registration:{key}")
        unique()
        merged = _merged_patient(patient.resource or {}, reg, svc.settings.bhyt_system)
        if merged is not None:
            crud.update(svc, "Patient", reg.patient_id, merged, patient.version)
        return crud.create(svc, "Appointment", resource).version
    unique()  # refuse early; checked again, with the claim, in the transaction
    return svc.store.transact(unit)

"""The campaign loop's operations (issue 14; FHIR R4 appointment.html, slot.html,
communication.html; operations.html for Parameters in and a resource out). See docs/app-rules.md.

- POST Appointment/$book {patient, slot, comment?}: a booked Appointment in a free Slot
  (201); POST Appointment/[id]/$book {slot}: the site books a proposed one (registration
  accepted). Slot busy in the same transaction; 409 busy, 422 past.
- POST Appointment/[id]/$cancel {reason?}: cancelled (+ cancelationReason), its Slot free;
  a site declining a vaccination registration must give the reason.
- POST Appointment/$register-vaccination {patient, site, priorityGroup, preferredDate,
  birthDate?, gender?, bhyt?, campaign?}: a proposed Appointment (vn-appointment-vaccination).
- POST Communication/[id]/$mark-read, POST Communication/$mark-read {recipient}: notifications
  read (status completed + received).
Each writes through the caller's Repository: a citizen acts for themself and linked family.
"""

from __future__ import annotations

from typing import Any

from fhir_server.errors import InvalidRequest
from fhir_server.interactions.context import Services
from fhir_server.operations.registry import OperationCall, OperationResult, operation
from fhir_server.scheduling import booking, registration
from fhir_server.scheduling.notices import CATEGORY_SYSTEM
from fhir_server.scheduling.reading import mark_all_read, mark_read
from fhir_server.storage.base import StoredVersion


def _text(call: OperationCall, name: str, limit: int = 500) -> str | None:
    value = call.first(name)
    if isinstance(value, dict):  # valueCoding / valueCodeableConcept
        value = value.get("code") or value.get("text")
    if value is None:
        return None
    if not isinstance(value, (str, int)) or len(str(value)) > limit:
        raise InvalidRequest.at(f"'{name}' is a short text or code", name, "value")
    return str(value)


def _patient(svc: Services, call: OperationCall) -> str:
    given = call.first("patient")
    if given is None and svc.caller.patient:
        return svc.caller.patient  # a citizen acting for themself
    return booking.reference_id(given if given is not None else call.require("patient"),
                                "Patient", "patient")


def _created(svc: Services, version: StoredVersion) -> OperationResult:
    where = f"{svc.settings.base_url}/{version.type}/{version.id}/_history/{version.version}"
    return OperationResult(version.resource, status=201, headers={
        "Location": where, "ETag": f'W/"{version.version}"'})


@operation("book", types=("Appointment",), type_level=True, instance=True, methods=("POST",),
           affects_state=True,
           documentation="Book a free Slot: a booked Appointment for a Patient (type level), "
                         "or book a proposed Appointment into a Slot (instance: the site "
                         "accepts a registration); the Slot becomes busy atomically")
def book(svc: Services, call: OperationCall) -> OperationResult:
    """Appointment/$book and Appointment/[id]/$book."""
    slot = booking.reference_id(call.require("slot"), "Slot", "slot")
    now = svc.settings.clock()
    if call.resource_id is not None:
        return OperationResult(booking.accept(svc, call.resource_id, slot, now).resource)
    extra: dict[str, Any] = {}
    comment = _text(call, "comment")
    if comment:
        extra["comment"] = comment
    return _created(svc, booking.book(svc, _patient(svc, call), slot, now, extra))


@operation("cancel", types=("Appointment",), instance=True, methods=("POST",),
           affects_state=True,
           documentation="Cancel an Appointment (cancelationReason from `reason`) and free its "
                         "Slot; a site declining a registration gives the reason")
def cancel(svc: Services, call: OperationCall) -> OperationResult:
    """Appointment/[id]/$cancel."""
    version = booking.cancel(svc, str(call.resource_id), _text(call, "reason"),
                             svc.settings.clock())
    return OperationResult(version.resource)


@operation("register-vaccination", types=("Appointment",), type_level=True,
           methods=("POST",), affects_state=True,
           documentation="Register a citizen or linked family member for vaccination: a "
                         "proposed Appointment (vn-appointment-vaccination)")
def register_vaccination(svc: Services, call: OperationCall) -> OperationResult:
    """Appointment/$register-vaccination."""
    site = booking.reference_id(call.require("site"), "Location", "site")
    gender = _text(call, "gender", 20)
    reg = registration.Registration(
        patient_id=_patient(svc, call), site_id=site,
        group=_text(call, "priorityGroup", 64) or "",
        preferred=registration.parse_day(call.require("preferredDate")),
        birth_date=(registration.parse_day(call.first("birthDate"), "birthDate").isoformat()
                    if call.first("birthDate") is not None else None),
        gender=gender, bhyt=_text(call, "bhyt", 40),
        campaign=_text(call, "campaign", 24) or registration.DEFAULT_CAMPAIGN)
    return _created(svc, registration.register(svc, reg, svc.settings.clock()))


@operation("mark-read", types=("Communication",), instance=True, type_level=True,
           methods=("POST",), affects_state=True,
           documentation="Mark a notification read (status completed, received now); at type "
                         "level every unread notification of `recipient`")
def mark_read_operation(svc: Services, call: OperationCall) -> OperationResult:
    """Communication/[id]/$mark-read and Communication/$mark-read."""
    now = svc.settings.clock()
    if call.resource_id is not None:
        return OperationResult(mark_read(svc, call.resource_id, now).resource)
    given = call.first("recipient")
    patient = svc.caller.patient if given is None else None
    if patient is None:
        patient = booking.reference_id(given if given is not None else
                                       call.require("recipient"), "Patient", "recipient")
    marked = mark_all_read(svc, patient, now)
    return OperationResult({"resourceType": "Parameters", "parameter": [
        {"name": "marked", "valueInteger": marked},
        {"name": "category", "valueCoding": {"system": CATEGORY_SYSTEM,
                                             "code": "notification"}}]})


"""Booking flows (Đặt khám) behind Appointment/$book and Appointment/[id]/$cancel.

FHIR R4 appointment.html ("the Appointment is booked when the slots are ... marked busy"),
slot.html. `book` makes a booked Appointment (profile vn-appointment-booking) for a Patient in
one free Slot: start and end from the Slot, the Schedule's actors as participants. `accept`
books an existing proposed Appointment (a vaccination registration) into a Slot; `cancel`
cancels one (with cancelationReason), freeing its Slot. Each writes the Appointment and the
in-app notice (notices.py) in one transaction through the caller's Repository (the booking
rule, rules.py, takes or frees the Slot in it), then texts the citizen once. Retrying a
cancel, or an accept into the same Slot, changes nothing and notifies nothing again.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from contextvars import ContextVar
from datetime import datetime
from typing import Any

from fhir_server.errors import (
    Conflict,
    FhirError,
    Forbidden,
    InvalidRequest,
    NotFound,
    Unprocessable,
)
from fhir_server.interactions import crud
from fhir_server.interactions.context import Services
from fhir_server.scheduling.notices import Notice, notify_after, patient_name, record, when_text
from fhir_server.scheduling.rules import BOOKING, slot_ids
from fhir_server.storage.base import StoredVersion

log = logging.getLogger(__name__)
BOOKING_PROFILE = "https://fhir.moh.gov.vn/fhir/StructureDefinition/vn-appointment-booking"
V2_0276 = "http://terminology.hl7.org/CodeSystem/v2-0276"
VACCINATION = ("http://snomed.info/sct", "33879002")
OPEN = frozenset({"proposed", "pending", "waitlist"})


def reference_id(value: Any, type_name: str, name: str) -> str:
    """The id in a `Type/id` reference input (400 at the input's name otherwise)."""
    text = value.get("reference") if isinstance(value, dict) else value
    if isinstance(text, str):
        head, _, tail = text.rstrip("/").rpartition("/")
        if (head == type_name or head.endswith(f"/{type_name}")) and tail:
            return tail
    raise InvalidRequest.at(f"'{name}' is a reference to a {type_name} ({type_name}/id)",
                            name, "value")


def is_vaccination(appointment: dict[str, Any]) -> bool:
    """True for a vaccination appointment (serviceType SNOMED CT 33879002)."""
    return any((c.get("system"), c.get("code")) == VACCINATION
               for concept in appointment.get("serviceType") or []
               for c in concept.get("coding") or [])


def patient_of(appointment: dict[str, Any]) -> str | None:
    """The Patient id among the participants."""
    for participant in appointment.get("participant") or []:
        ref = str((participant.get("actor") or {}).get("reference") or "")
        if ref.startswith("Patient/"):
            return ref.split("/", 1)[1]
    return None


def _slot(svc: Services, slot_id: str, name: str = "slot") -> tuple[dict[str, Any],
                                                                    dict[str, Any]]:
    try:
        slot = svc.store.read("Slot", slot_id).resource or {}
        schedule_id = reference_id(slot.get("schedule"), "Schedule", "Slot.schedule")
        schedule = svc.store.read("Schedule", schedule_id).resource or {}
    except NotFound:
        raise Unprocessable.at(f"Slot/{slot_id} (or its Schedule) does not exist", name,
                               "not-found") from None
    return slot, schedule


def site_refs(appointment: dict[str, Any]) -> list[tuple[str, str]]:
    """The (type, id) of the Locations and Practitioners an Appointment names, in order."""
    found = []
    for participant in appointment.get("participant") or []:
        kind, _, rid = str((participant.get("actor") or {}).get("reference") or ""
                           ).partition("/")
        if kind in ("Location", "Practitioner") and rid:
            found.append((kind, rid))
    return found


def site_name(svc: Services, kind: str, rid: str) -> str:
    """The display name of a Location or Practitioner ('' when it is gone)."""
    try:
        found = svc.internal().store.read(kind, rid).resource or {}
    except FhirError:
        return ""
    return str(found.get("name") or patient_name(found) or "")


def notice_details(appointment: dict[str, Any], patient: dict[str, Any], site: str,
                   reason: str = "") -> dict[str, str]:
    """The text fields of a notice from the Appointment, its Patient and its site's name."""
    return {"name": patient_name(patient), "when": when_text(appointment.get("start")),
            "site": site or "cơ sở y tế", "reason": reason}


def details(svc: Services, appointment: dict[str, Any], reason: str = "") -> dict[str, str]:
    """The text fields of a notice about an Appointment: name, local time, site, reason."""
    site = next((name for name in (site_name(svc, kind, rid)
                                   for kind, rid in site_refs(appointment)) if name), "")
    try:
        patient = svc.internal().store.read("Patient", patient_of(appointment) or "-"
                                            ).resource or {}
    except FhirError:  # a deleted Patient: the notice goes without the name
        patient = {}
    return notice_details(appointment, patient, site, reason)


NOTIFYING: ContextVar[bool] = ContextVar("booking_notifying", default=False)


def _commit(svc: Services, kind: str, write: Callable[[], StoredVersion], reason: str,
            now: datetime) -> StoredVersion:
    """Write the Appointment and its notice in one transaction; then text the citizen."""
    notices: list[Notice] = []

    def unit() -> StoredVersion:
        notices.clear()
        version = write()
        appointment = version.resource or {}
        patient = patient_of(appointment)
        if patient is not None:
            notice = Notice(kind, patient, f"Appointment/{version.id}",
                            f"{kind}/{version.id}/{version.version}",
                            details(svc, appointment, reason))
            record(svc.internal(), notice, now)
            notices.append(notice)
        return version
    token = NOTIFYING.set(True)  # the plain-door effect (appointment_notices.py) stands back
    try:
        version = svc.store.transact(unit)
    finally:
        NOTIFYING.reset(token)
    for notice in notices:
        try:
            notify_after(svc, notice, now)
        except Exception:  # noqa: BLE001 - the booking stands; the in-app notice is there
            log.exception("SMS for %s not queued", notice.key)
    return version


def book(svc: Services, patient_id: str, slot_id: str, now: datetime,
         extra: dict[str, Any]) -> StoredVersion:
    """A booked Appointment for the Patient in the Slot (Appointment/$book)."""
    slot, schedule = _slot(svc, slot_id)
    actors = [{"actor": a, "status": "accepted"} for a in schedule.get("actor") or []]
    appointment: dict[str, Any] = {
        "resourceType": "Appointment", "meta": {"profile": [BOOKING_PROFILE]},
        "status": "booked", "slot": [{"reference": f"Slot/{slot_id}"}],
        "appointmentType": {"coding": [{"system": V2_0276, "code": "ROUTINE"}]},
        "serviceType": slot.get("serviceType") or schedule.get("serviceType") or [
            {"text": "Khám bệnh"}],
        "start": slot.get("start"), "end": slot.get("end"), "created": now.isoformat(),
        "participant": [{"actor": {"reference": f"Patient/{patient_id}"},
                         "status": "accepted"}, *actors], **extra}
    BOOKING.check(svc.store, appointment, None)  # refuse early, outside the transaction
    return _commit(svc, "booking-confirmed",
                   lambda: crud.create(svc, "Appointment", appointment).version, "", now)


def accept(svc: Services, appointment_id: str, slot_id: str, now: datetime) -> StoredVersion:
    """Book a proposed Appointment into a Slot (the site accepts a registration)."""
    if svc.caller.kind not in ("staff", "system", "internal"):
        raise Forbidden("Only the vaccination site or clinic books a proposed Appointment")
    current = crud.read(svc, "Appointment", appointment_id)
    appointment = dict(current.resource or {})
    kind = "registration-accepted" if is_vaccination(appointment) else "booking-confirmed"
    if appointment.get("status") == "booked" and [s for _i, s in slot_ids(appointment)] == [
            slot_id]:
        return _commit(svc, kind, lambda: current, "", now)  # a retry: notified once
    if appointment.get("status") not in OPEN:
        raise Conflict.at(f"Appointment/{appointment_id} is {appointment.get('status')}, not "
                          "proposed", "Appointment.status")
    slot, schedule = _slot(svc, slot_id)
    present = {str((p.get("actor") or {}).get("reference")) for p in appointment.get(
        "participant") or []}
    participants = [{**p, "status": "accepted"} for p in appointment.get("participant") or []]
    participants += [{"actor": a, "status": "accepted"} for a in schedule.get("actor") or []
                     if str(a.get("reference")) not in present]
    appointment.update({"status": "booked", "slot": [{"reference": f"Slot/{slot_id}"}],
                        "start": slot.get("start"), "end": slot.get("end"),
                        "participant": participants})
    BOOKING.check(svc.store, appointment, current.resource)
    return _commit(svc, kind, lambda: crud.update(svc, "Appointment", appointment_id,
                                                  appointment, current.version).version, "", now)


def cancel(svc: Services, appointment_id: str, reason: str | None,
           now: datetime) -> StoredVersion:
    """Cancel an Appointment with its reason (frees its Slot); a retry changes nothing."""
    current = crud.read(svc, "Appointment", appointment_id)
    appointment = dict(current.resource or {})
    status = appointment.get("status")
    declined = is_vaccination(appointment) and svc.caller.kind != "citizen" and (
        status in OPEN or status == "cancelled" and not slot_ids(appointment))
    kind = "registration-declined" if declined else (
        "vaccination-cancelled" if is_vaccination(appointment) else "booking-cancelled")
    text = reason or str((appointment.get("cancelationReason") or {}).get("text") or "")
    if status == "cancelled":
        return _commit(svc, kind, lambda: current, text, now)
    if status not in OPEN and status != "booked":
        raise Conflict.at(f"Appointment/{appointment_id} is {status}: it cannot be cancelled",
                          "Appointment.status")
    if declined and not reason:
        raise InvalidRequest.at("Declining a registration needs a reason", "reason", "required")
    appointment["status"] = "cancelled"
    if reason:
        appointment["cancelationReason"] = {"text": reason}
    return _commit(svc, kind, lambda: crud.update(svc, "Appointment", appointment_id,
                                                  appointment, current.version).version,
                   text, now)

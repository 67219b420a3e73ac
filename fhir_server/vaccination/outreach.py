"""What follows a site's writes (issue 14 points 3 and 5), whatever the door:

- a Patient a site registers with a Vietnamese mobile number, who has no account yet, is
  texted the app invitation once (key `invite/<patient>`);
- a dose a site records (status completed, given in the last DOSE_WINDOW days: imports of old
  records text nobody) proposes the next dose (ImmunizationRecommendation, one per person,
  updated with each dose), writes the in-app notice (Communication, notices.py) and texts the
  dose and the schedule (date, site, vaccine; and the invitation when there is no account),
  once per dose (key `dose/<immunization>`);
- a dose voided (entered-in-error) updates the recommendation.

Sites are staff and system clients; citizens' own writes and the server's imports do not text.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date, datetime, timedelta
from typing import Any

from fhir_server.auth.principal import INTERNAL_PRINCIPAL, STAFF, SYSTEM, acting_as
from fhir_server.interactions.context import Services
from fhir_server.scheduling.booking import is_vaccination
from fhir_server.scheduling.notices import VIETNAM, Notice, patient_name, phone_of, record
from fhir_server.storage.base import StoredVersion
from fhir_server.vaccination.forecast import SERIES_SYSTEM, forecast, next_due
from fhir_server.write_effects import add_effect

SITES = frozenset({STAFF, SYSTEM})
DOSE_WINDOW = timedelta(days=7)
PREFIX = "So suc khoe dien tu"
INVITE = ("{prefix}: {name} da duoc dang ky tiem chung. Tai ung dung So suc khoe dien tu va "
          "dang ky bang so dien thoai {phone} de xem lich tiem va chung nhan.")
DOSE = "{prefix}: {name} da tiem mui {dose} {vaccine} ngay {when} tai {site}.{next}{invite}"
NEXT = " Mui tiep theo tu ngay {when}."
INVITE_TAIL = " Tai ung dung So suc khoe dien tu de xem chung nhan."


def _local_day(instant: Any) -> date | None:
    """The day of an instant in Viet Nam."""
    try:
        return datetime.fromisoformat(str(instant).replace("Z", "+00:00")).astimezone(
            VIETNAM).date()
    except ValueError:
        return None


def _today() -> date:
    return datetime.now(VIETNAM).date()


def _is_vn_mobile(phone: str | None) -> bool:
    return bool(phone) and str(phone).startswith("+84") and len(str(phone)) == 12


def _has_account(svc: Services, patient_id: str) -> bool:
    auth = svc.components.get("auth")
    return bool(auth and auth.accounts.is_linked(patient_id))


def _text(svc: Services, key: str, phone: str | None, text: str) -> None:
    auth = svc.components.get("auth")
    if auth is not None and _is_vn_mobile(phone):
        auth.outbox.enqueue_once(key, str(phone), text)


def invite(svc: Services, version: StoredVersion, before: Mapping[str, Any] | None) -> None:
    """A site registered a person by phone: the app invitation, once."""
    patient = version.resource or {}
    if svc.caller.kind not in SITES or before is not None:
        return
    phone = next((t.get("value") for t in patient.get("telecom", [])
                  if t.get("system") in ("phone", "sms")), None)
    if _is_vn_mobile(phone) and not _has_account(svc, version.id):
        _text(svc, f"invite/{version.id}", phone, INVITE.format(
            prefix=PREFIX, name=patient_name(patient), phone="0" + str(phone)[3:]))


def _patient_id(immunization: Mapping[str, Any]) -> str | None:
    reference = str((immunization.get("patient") or {}).get("reference") or "")
    return reference.split("/", 1)[1] if reference.startswith("Patient/") else None


def _recent(immunization: Mapping[str, Any]) -> bool:
    given = str(immunization.get("occurrenceDateTime") or "")[:10]
    try:
        return _today() - date.fromisoformat(given) <= DOSE_WINDOW
    except ValueError:
        return False


def update_recommendation(svc: Services, patient_id: str) -> dict[str, Any] | None:
    """Recompute the patient's next-dose ImmunizationRecommendation (created or replaced)."""
    server = svc.internal()
    doses = server.search.criteria_for("Immunization", [("patient", f"Patient/{patient_id}")])
    given = [dict(v.resource) for v in server.store.find("Immunization", doses, limit=200)
             if v.resource]
    proposed = forecast(patient_id, given, _today())
    mine = server.search.criteria_for("ImmunizationRecommendation",
                                      [("identifier", f"{SERIES_SYSTEM}|{patient_id}")])
    existing = next(iter(server.store.find("ImmunizationRecommendation", mine, limit=1)), None)
    if proposed is None:
        return None
    with acting_as(INTERNAL_PRINCIPAL):
        if existing is None:
            return dict(server.store.create("ImmunizationRecommendation", proposed).resource
                        or proposed)
        if (existing.resource or {}).get("recommendation") == proposed["recommendation"]:
            return dict(existing.resource or {})  # unchanged: no new version
        return dict(server.store.update("ImmunizationRecommendation", existing.id,
                                        {**proposed, "id": existing.id})[0].resource or {})


def _site_name(svc: Services, immunization: Mapping[str, Any]) -> str:
    reference = str((immunization.get("location") or {}).get("reference") or "")
    if reference.startswith("Location/"):
        try:
            found = svc.internal().store.read("Location", reference.split("/", 1)[1])
            return str((found.resource or {}).get("name") or "co so tiem chung")
        except Exception:  # noqa: BLE001 - a missing site does not stop the message
            pass
    return "co so tiem chung"


def dose_recorded(svc: Services, version: StoredVersion,
                  before: Mapping[str, Any] | None) -> None:
    """A site recorded (or voided) a dose: recommendation, in-app notice, one SMS."""
    immunization = version.resource or {}
    patient_id = _patient_id(immunization)
    if patient_id is None or svc.caller.kind not in SITES:
        return
    voided = immunization.get("status") == "entered-in-error"
    given_now = immunization.get("status") == "completed" and _recent(immunization)
    if not (voided or given_now):
        return
    recommendation = update_recommendation(svc, patient_id)
    if given_now:
        fulfil_appointment(svc, patient_id, str(immunization["occurrenceDateTime"])[:10])
        announce_dose(svc, version.id, immunization, recommendation)


def fulfil_appointment(svc: Services, patient_id: str, day: str) -> str | None:
    """The person's booked vaccination Appointment of that day becomes `fulfilled` (the dose
    fulfils it, appointment.html status); its id, or None when there was none."""
    server = svc.internal()
    try:
        given = date.fromisoformat(day)
    except ValueError:
        return None
    criteria = server.search.criteria_for("Appointment", [
        ("patient", f"Patient/{patient_id}"), ("status", "booked"),
        ("date", f"ge{given - timedelta(days=1)}"), ("date", f"le{given + timedelta(days=1)}")])
    for found in server.store.find("Appointment", criteria, limit=10):
        appointment = dict(found.resource or {})
        if is_vaccination(appointment) and _local_day(appointment.get("start")) == given:
            with acting_as(INTERNAL_PRINCIPAL):
                server.store.update("Appointment", found.id,
                                    {**appointment, "status": "fulfilled"})
            return found.id
    return None


def announce_dose(svc: Services, immunization_id: str, immunization: Mapping[str, Any],
                  recommendation: dict[str, Any] | None) -> None:
    """The in-app notice and the one SMS of a recorded dose (with the next date, if any)."""
    patient_id = _patient_id(immunization)
    if patient_id is None:
        return
    version_id = immunization_id
    server = svc.internal()
    patient = server.store.read("Patient", patient_id).resource or {}
    name, when = patient_name(patient), str(immunization["occurrenceDateTime"])[:10]
    vaccine = next((c.get("display") for c in immunization.get("vaccineCode", {})
                    .get("coding", []) if c.get("display")), "vac xin")
    site = _site_name(svc, immunization)
    notice = Notice("dose-recorded", patient_id, f"Immunization/{version_id}",
                    f"dose-recorded/{version_id}", {"name": name, "when": when, "site": site})
    with acting_as(INTERNAL_PRINCIPAL):
        server.store.transact(lambda: record(server, notice, datetime.now(VIETNAM)))
    due = next_due(recommendation) if recommendation else None
    dose = next((p.get("doseNumberPositiveInt") for p in immunization.get("protocolApplied", [])
                 if p.get("doseNumberPositiveInt")), "")
    text = DOSE.format(prefix=PREFIX, name=name, dose=dose, vaccine=vaccine, when=when,
                       site=site, next=NEXT.format(when=due[1].isoformat()) if due else "",
                       invite="" if _has_account(svc, patient_id) else INVITE_TAIL)
    _text(svc, f"dose/{version_id}", phone_of(server, patient_id), " ".join(text.split()))


add_effect("Patient", invite)
add_effect("Immunization", dose_recorded)

"""What a reaction report writes (FHIR R4 adverseevent.html, flag.html, communication.html),
inside the report's own transaction (rules.py), once per report key:

- an AdverseEvent (profile vn-adverse-event-immunization; tag {REACTION_SYSTEM, key}): event
  = the first red-flag sign, else the first symptom (`event.text` lists them all), subject,
  date = onset, recordedDate = authored, seriousness, severity, suspectEntity.instance = the
  dose, location = the dose's, recorder = the report's author or source, and the report
  itself (by its identifier) as workflow-supportingInfo;
- with red flags: a Flag (category safety, flag-detail = the AdverseEvent), a Communication
  to the administering site (category alert, priority asap: the dose's performer
  Organization, else its PractitionerRole's organization, else its Location's managing
  organization, else the performer), and the citizen's in-app notice `red-flag-received`
  (scheduling/notices.py; the AdverseEvent as `about`).
"""

from __future__ import annotations

from contextlib import suppress
from datetime import datetime
from typing import Any

from fhir_server.campaign.answers import Answer, first, of, reference_id
from fhir_server.campaign.reactions import SEVERITY, Report, serious
from fhir_server.conformance import conformance_terminology
from fhir_server.errors import FhirError
from fhir_server.interactions.context import Services
from fhir_server.scheduling.notices import CATEGORY_SYSTEM, Notice, patient_name, record
from fhir_server.storage.base import StoredVersion

PROFILE = "https://fhir.moh.gov.vn/fhir/StructureDefinition/vn-adverse-event-immunization"
REACTION_SYSTEM = "urn:fhir-server:reaction"
SERIOUSNESS = "http://terminology.hl7.org/CodeSystem/adverse-event-seriousness"
FLAG_CATEGORY = "http://terminology.hl7.org/CodeSystem/flag-category"
SUPPORTING_INFO = "http://hl7.org/fhir/StructureDefinition/workflow-supportingInfo"
FLAG_DETAIL = "http://hl7.org/fhir/StructureDefinition/flag-detail"


def _coding(answer: Answer) -> dict[str, Any]:
    coding = {k: v for k, v in answer.value.items() if k in ("system", "code", "display")}
    if "display" not in coding and answer.system and answer.code:
        with suppress(FhirError, KeyError):
            coding["display"] = conformance_terminology().lookup(answer.system,
                                                                 answer.code)["display"]
    return coding


def _names(answers: list[Answer]) -> str:
    codes = dict.fromkeys(a.code for a in answers if a.code)  # each once, in order
    chosen = [next(a for a in answers if a.code == code) for code in codes]
    return ", ".join(str(_coding(a).get("display") or a.code) for a in chosen)


def _reference(value: Any, *types: str) -> dict[str, str] | None:
    for type_name in types:
        found = reference_id(value, type_name)
        if found is not None:
            return {"reference": f"{type_name}/{found}"}
    return None


def adverse_event(report: Report, response: dict[str, Any], dose: StoredVersion,
                  now: datetime) -> dict[str, Any]:
    """The AdverseEvent of a report."""
    symptoms = [a for a in of(report.found, "symptoms") if a.code]
    signs = [a for a in report.flags if a.link != "severity"]
    main = (signs or symptoms or report.flags)[0]
    onset = first(report.found, "onset")
    severity = first(report.found, "severity")
    grade = "serious" if serious(report) else "non-serious"
    event: dict[str, Any] = {
        "resourceType": "AdverseEvent", "meta": {
            "profile": [PROFILE], "tag": [{"system": REACTION_SYSTEM, "code": report.key}]},
        "actuality": "actual",
        "event": {"coding": [_coding(main)], "text": _names(symptoms + signs) or "?"},
        "subject": {"reference": f"Patient/{report.patient_id}"},
        "date": str(onset.value) if onset is not None else
        str(response.get("authored") or now.isoformat()),
        "recordedDate": str(response.get("authored") or now.isoformat()),
        "seriousness": {"coding": [{"system": SERIOUSNESS, "code": grade,
                                    "display": grade.capitalize()}]},
        "suspectEntity": [{"instance": {"reference": f"Immunization/{dose.id}"}}]}
    if severity is not None and severity.system == SEVERITY:
        event["severity"] = {"coding": [_coding(severity)]}
    location = _reference((dose.resource or {}).get("location"), "Location")
    if location is not None:
        event["location"] = location
    recorder = (_reference(response.get("author"), "Patient", "Practitioner",
                           "PractitionerRole", "RelatedPerson")
                or _reference(response.get("source"), "Patient", "Practitioner",
                              "PractitionerRole", "RelatedPerson"))
    if recorder is not None:
        event["recorder"] = recorder
    if report.identifier is not None:
        event["extension"] = [{"url": SUPPORTING_INFO, "valueReference": {
            "type": "QuestionnaireResponse", "identifier": report.identifier}}]
    return event


def site_of(internal: Services, dose: StoredVersion) -> dict[str, str] | None:
    """The administering site to alert: an Organization when one is known."""
    content = dose.resource or {}
    actors = [p.get("actor") for p in content.get("performer") or [] if isinstance(p, dict)]
    for actor in actors:
        if (found := _reference(actor, "Organization")) is not None:
            return found
    for actor, via, field in (*((a, "PractitionerRole", "organization") for a in actors),
                              (content.get("location"), "Location", "managingOrganization")):
        target = reference_id(actor, via)
        if target is None:
            continue
        try:
            linked = internal.store.read(via, target).resource or {}
        except FhirError:
            continue
        if (found := _reference(linked.get(field), "Organization")) is not None:
            return found
    return next((found for actor in actors if (found := _reference(
        actor, "Practitioner", "PractitionerRole")) is not None), None)


def _alerts(internal: Services, report: Report, dose: StoredVersion, event_id: str,
            now: datetime) -> None:
    patient = {"reference": f"Patient/{report.patient_id}"}
    about = {"reference": f"AdverseEvent/{event_id}"}
    signs = _names(report.flags) or "severe"
    internal.store.create("Flag", {
        "resourceType": "Flag", "status": "active",
        "identifier": [{"system": REACTION_SYSTEM, "value": report.key}],
        "extension": [{"url": FLAG_DETAIL, "valueReference": about}],
        "category": [{"coding": [{"system": FLAG_CATEGORY, "code": "safety",
                                  "display": "Safety"}]}],
        "code": {"coding": [_coding(a) for a in report.flags],
                 "text": f"Phản ứng nặng sau tiêm: {signs}"},
        "subject": patient, "period": {"start": now.isoformat()}})
    person = internal.store.read("Patient", report.patient_id).resource or {}
    name = patient_name(person) or f"Patient/{report.patient_id}"
    given = str((dose.resource or {}).get("occurrenceDateTime") or "")[:10]
    message: dict[str, Any] = {
        "resourceType": "Communication", "status": "completed", "priority": "asap",
        "identifier": [{"system": REACTION_SYSTEM, "value": f"{report.key}/site"}],
        "category": [{"coding": [{"system": CATEGORY_SYSTEM, "code": "alert"}]}],
        "subject": patient, "about": [about, {"reference": f"Immunization/{dose.id}"}],
        "sent": now.isoformat(), "payload": [{"contentString": (
            f"Phản ứng nặng sau tiêm của {name} (mũi tiêm ngày {given}): {signs}. "
            "Đề nghị liên hệ người tiêm ngay.")}]}
    site = site_of(internal, dose)
    if site is not None:
        message["recipient"] = [site]
    internal.store.create("Communication", message)
    record(internal, Notice("red-flag-received", report.patient_id, about["reference"],
                            f"red-flag/{report.key[:32]}", {"name": name}), now)


def write(svc: Services, internal: Services, report: Report, response: dict[str, Any],
          dose: StoredVersion, now: datetime) -> bool:
    """Inside the report's transaction: its AdverseEvent (as the caller) and, with red flags,
    the alerts (as the server); False when this key was already recorded (a retry)."""
    internal.store.claim(f"reaction:{report.key}")
    tagged = internal.search.criteria_for("AdverseEvent",
                                          [("_tag", f"{REACTION_SYSTEM}|{report.key}")])
    if next(iter(internal.store.find("AdverseEvent", tagged, limit=1)), None) is not None:
        return False
    event = svc.store.create("AdverseEvent", adverse_event(report, response, dose, now))
    if report.flags:
        _alerts(internal, report, dose, event.id, now)
    return True

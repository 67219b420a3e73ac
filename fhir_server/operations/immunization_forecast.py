"""Next-dose forecasting and the citizen's answer to a recorded dose (issue 14 point 5).

- `POST [base]/$immds-forecast` (Immunization Decision Support Forecast IG, OperationDefinition
  immds-forecast): inputs `assessmentDate`, `patient` (a Patient resource) and `immunization`
  (0..* Immunization resources); when no immunization is given and the Patient has a stored
  id, its stored doses are used (as the caller may see them). Output: Parameters with
  `recommendation` (an ImmunizationRecommendation: dose number, earliest/due/latest dates from
  the vaccine's schedule). `GET|POST Patient/[id]/$immds-forecast` forecasts a stored
  Patient from its stored doses.
- `POST Immunization/[id]/$confirm` (Xác nhận tiêm chủng): the citizen attests the dose is
  theirs: a Provenance (target the Immunization, agent the Patient, activity VERIFY).
- `POST Immunization/[id]/$dispute` with `reason`: a Flag for the site (subject the Patient,
  flag-detail the Immunization, the reason as text), open until the site resolves it.
Both are for the dose's own person (or their family); anyone else gets 404.
"""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Any

from fhir_server.auth.principal import INTERNAL_PRINCIPAL, acting_as
from fhir_server.errors import InvalidRequest
from fhir_server.interactions import crud
from fhir_server.interactions.context import Services
from fhir_server.model.parse import validate_resource
from fhir_server.operations.registry import OperationCall, OperationResult, operation
from fhir_server.scheduling.notices import VIETNAM
from fhir_server.vaccination.forecast import forecast

DATA_OPERATION = "http://terminology.hl7.org/CodeSystem/v3-DataOperation"
FLAG_DETAIL = "http://hl7.org/fhir/StructureDefinition/flag-detail"
FLAG_CATEGORY = "http://terminology.hl7.org/CodeSystem/flag-category"


def _assessment_date(call: OperationCall) -> date:
    value = call.first("assessmentDate")
    if value is None:
        return datetime.now(VIETNAM).date()
    try:
        return date.fromisoformat(str(value)[:10])
    except ValueError:
        raise InvalidRequest.at("assessmentDate must be a date (YYYY-MM-DD)", "assessmentDate",
                                "value") from None


def _stored_doses(svc: Services, patient_id: str) -> list[dict[str, Any]]:
    criteria = svc.search.criteria_for("Immunization", [("patient", f"Patient/{patient_id}")])
    return [dict(v.resource) for v in svc.store.find("Immunization", criteria, limit=200)
            if v.resource]


def _answer(patient_id: str, doses: list[dict[str, Any]], today: date) -> OperationResult:
    recommendation = forecast(patient_id, doses, today) or {
        "resourceType": "ImmunizationRecommendation", "date": today.isoformat(),
        "patient": {"reference": f"Patient/{patient_id}"},
        "recommendation": [{"targetDisease": {"text": "COVID-19"}, "forecastStatus": {
            "coding": [{"system": "http://terminology.hl7.org/CodeSystem/"
                        "immunization-recommendation-status", "code": "due"}],
            "text": "No dose of a known vaccine yet: the first dose is due"}}]}
    return OperationResult({"resourceType": "Parameters", "parameter": [
        {"name": "recommendation", "resource": recommendation}]})


@operation("immds-forecast", system=True, instance=True, types=("Patient",),
           methods=("GET", "POST"),
           documentation="Next dose from the vaccine schedule (assessmentDate, patient, "
                         "immunization*) -> recommendation (ImmunizationRecommendation); on "
                         "Patient/[id] from its stored doses")
def immds_forecast(svc: Services, call: OperationCall) -> OperationResult:
    """The IG's forecast: from the Patient and doses in the call, or of a stored Patient."""
    if call.resource_id is not None:
        patient_id = str(call.resource_id)
        crud.read(svc, "Patient", patient_id)  # 404 unless the caller may see it
        return _answer(patient_id, _stored_doses(svc, patient_id), _assessment_date(call))
    given = call.require("patient")
    if not isinstance(given, dict) or given.get("resourceType") != "Patient":
        raise InvalidRequest.at("'patient' must be a Patient resource", "patient", "value")
    patient = validate_resource(given, "Patient")
    doses = []
    for index, (name, value) in enumerate(call.parameters()):
        if name == "immunization":
            if not isinstance(value, dict) or value.get("resourceType") != "Immunization":
                raise InvalidRequest.at("'immunization' must be Immunization resources",
                                        f"Parameters.parameter[{index}]", "value")
            doses.append(validate_resource(value, "Immunization"))
    patient_id = str(patient.get("id") or "unknown")
    if not doses and patient.get("id"):
        crud.read(svc, "Patient", patient_id)  # 404 unless the caller may see it
        doses = _stored_doses(svc, patient_id)
    return _answer(patient_id, doses, _assessment_date(call))


def _own_dose(svc: Services, immunization_id: str) -> tuple[dict[str, Any], str]:
    """The dose (404 unless the caller may see it) and its Patient reference."""
    dose = dict(crud.read(svc, "Immunization", immunization_id).resource or {})
    return dose, str((dose.get("patient") or {}).get("reference"))


@operation("confirm", instance=True, types=("Immunization",), methods=("POST",),
           affects_state=True, access="instance-read",
           documentation="The citizen confirms a recorded dose is theirs (a Provenance)")
def confirm(svc: Services, call: OperationCall) -> OperationResult:
    """Record the person's attestation of the dose as a Provenance."""
    dose, patient = _own_dose(svc, str(call.resource_id))
    provenance = {"resourceType": "Provenance",
                  "target": [{"reference": f"Immunization/{dose['id']}"}],
                  "recorded": datetime.now(UTC).isoformat(),
                  "activity": {"coding": [{"system": DATA_OPERATION, "code": "VERIFY"}],
                               "text": "Xác nhận tiêm chủng"},
                  "agent": [{"who": {"reference": patient}}]}
    with acting_as(INTERNAL_PRINCIPAL):
        stored = svc.internal().store.create("Provenance", provenance)
    return OperationResult(stored.resource or provenance, status=201)


@operation("dispute", instance=True, types=("Immunization",), methods=("POST",),
           affects_state=True, access="instance-read",
           documentation="The citizen disputes a recorded dose (reason): a Flag for the site")
def dispute(svc: Services, call: OperationCall) -> OperationResult:
    """Open a Flag on the person for the site that recorded the dose, with the reason."""
    reason = call.require("reason")
    if not isinstance(reason, str) or not reason.strip() or len(reason) > 1000:
        raise InvalidRequest.at("reason is a text of 1 to 1000 characters", "reason", "value")
    dose, patient = _own_dose(svc, str(call.resource_id))
    flag = {"resourceType": "Flag", "status": "active",
            "extension": [{"url": FLAG_DETAIL,
                           "valueReference": {"reference": f"Immunization/{dose['id']}"}}],
            "category": [{"coding": [{"system": FLAG_CATEGORY, "code": "admin"}]}],
            "code": {"text": f"Mũi tiêm bị khiếu nại: {reason.strip()}"},
            "subject": {"reference": patient}, "author": {"reference": patient}}
    with acting_as(INTERNAL_PRINCIPAL):
        stored = svc.internal().store.create("Flag", flag)
    return OperationResult(stored.resource or flag, status=201)

"""Post-vaccination reaction reports (Phản ứng sau tiêm): a completed QuestionnaireResponse to
the vn-post-vaccination-survey Questionnaire (questionnaireresponse.html) names one dose of its
subject, and is recorded as an AdverseEvent (adverseevent.html; reaction_records.py).

- The dose: the `immunization` answer (a reference), else the subject's Immunization given on
  the `vaccination-date` (the `vaccine` and `dose` answers choose among several). It must be a
  completed Immunization of the response's own subject: otherwise 422 naming the answer
  (`QuestionnaireResponse.item[i].answer[0].valueReference` / `.valueDate`), whether the dose
  belongs to someone else or does not exist (the same text: ids cannot be probed).
- Red flags (RED_FLAGS, from the data): a `symptoms` or `red-flags` answer whose code is in
  ValueSet vn-red-flag-reaction (the vn-post-vaccination-reaction concepts of category
  nghiem-trong: kho-tho shortness of breath, co-giat seizure, phan-ve anaphylaxis,
  viem-co-tim myocarditis and viem-mang-ngoai-tim pericarditis (chest pain), tts,
  guillain-barre, liet-mat), or the `severity` answer `severe`.
- The report's key (retries): its identifier when it has one, else a digest of its subject,
  questionnaire, authored time and answers; one AdverseEvent per key.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import orjson

from fhir_server.campaign.answers import Answer, answers, canonical, first, of, reference_id
from fhir_server.conformance import conformance_terminology
from fhir_server.errors import FhirError, Gone, NotFound, Unprocessable
from fhir_server.interactions.context import Services
from fhir_server.storage.base import StoredVersion

SURVEY = "https://fhir.moh.gov.vn/fhir/Questionnaire/vn-post-vaccination-survey"
RED_FLAGS = "https://fhir.moh.gov.vn/fhir/ValueSet/vn-red-flag-reaction"
SEVERITY = "http://terminology.hl7.org/CodeSystem/adverse-event-severity"
SERIOUS_CARE = frozenset({"Nhập viện (hospitalised)", "Gọi cấp cứu 115 (emergency call 115)"})
HOTLINE = "115"
ADVICE = (f"Dấu hiệu nặng sau tiêm: gọi cấp cứu {HOTLINE} ngay hoặc đến cơ sở y tế gần nhất; "
          "không tự lái xe, có người đi cùng, mang theo sổ/giấy xác nhận tiêm. Điểm tiêm đã "
          "được thông báo và sẽ liên hệ. (Serious signs after vaccination: call 115 now or go "
          "to the nearest health facility; the vaccination site has been told and will call.)")


@dataclass(frozen=True)
class Report:
    """A reaction report as the server reads it."""

    patient_id: str
    found: list[Answer]
    flags: list[Answer]
    key: str
    identifier: dict[str, Any] | None


def is_report(resource: Mapping[str, Any] | None) -> bool:
    """True for a completed (or amended) answer to the reaction survey."""
    return (resource is not None and canonical(resource) == SURVEY
            and resource.get("status") in ("completed", "amended"))


def _in_red_flags(answer: Answer) -> bool:
    if answer.code is None:
        return False
    try:
        found = conformance_terminology().validate_code(RED_FLAGS, answer.code, answer.system)
    except FhirError:
        return False
    return bool(found.get("result"))


def red_flags(found: list[Answer]) -> list[Answer]:
    """The red-flag answers (one per code): warning signs, and severity `severe`."""
    flags: dict[str, Answer] = {}
    for answer in [*of(found, "symptoms"), *of(found, "red-flags")]:
        if answer.code and answer.code not in flags and _in_red_flags(answer):
            flags[answer.code] = answer
    severity = first(found, "severity")
    if severity is not None and severity.code == "severe" and severity.system == SEVERITY:
        flags["severe"] = severity
    return list(flags.values())


def serious(report: Report) -> bool:
    """Serious (adverse-event-seriousness): a red flag, or hospitalised / emergency care."""
    care = first(report.found, "care")
    return bool(report.flags) or (care is not None and care.value in SERIOUS_CARE)


def _identifier(resource: Mapping[str, Any]) -> dict[str, Any] | None:
    value = resource.get("identifier")
    if isinstance(value, dict) and value.get("value"):
        return {k: v for k, v in value.items() if k in ("system", "value")}
    return None


def report_key(resource: Mapping[str, Any]) -> str:
    """The retry key: the identifier's digest, else the digest of the report's content."""
    identifier = _identifier(resource)
    basis: Any = (identifier if identifier is not None else
                  [resource.get(k) for k in ("subject", "questionnaire", "authored", "item")])
    return hashlib.sha256(orjson.dumps(basis, option=orjson.OPT_SORT_KEYS)).hexdigest()[:40]


def parse(resource: Mapping[str, Any]) -> Report:
    """The report's subject, answers, red flags and key (422 at subject when not a Patient)."""
    patient_id = reference_id(resource.get("subject"), "Patient")
    if patient_id is None:
        raise Unprocessable.at("A reaction report's subject is the vaccinated Patient",
                               "QuestionnaireResponse.subject", "required")
    found = answers(resource)
    return Report(patient_id, found, red_flags(found), report_key(resource),
                  _identifier(resource))


def _not_theirs(report: Report, what: str, where: str) -> FhirError:
    return Unprocessable.at(f"{what} is not a recorded dose of Patient/{report.patient_id}: a "
                            "reaction is reported on the person's own vaccination", where,
                            "business-rule")


def _own(svc: Services, report: Report, answer: Answer) -> StoredVersion:
    dose_id = reference_id(answer.value, "Immunization")
    if dose_id is None:
        raise Unprocessable.at("The `immunization` answer references an Immunization",
                               answer.path, "value")
    try:
        dose = svc.store.read("Immunization", dose_id)
    except (NotFound, Gone):
        raise _not_theirs(report, f"Immunization/{dose_id}", answer.path) from None
    content = dose.resource or {}
    if (reference_id(content.get("patient"), "Patient") != report.patient_id
            or content.get("status") != "completed"):
        raise _not_theirs(report, f"Immunization/{dose_id}", answer.path)
    return dose


def _score(dose: StoredVersion, report: Report) -> int:
    content = dose.resource or {}
    vaccine = first(report.found, "vaccine")
    codes = {c.get("code") for c in (content.get("vaccineCode") or {}).get("coding") or []}
    number = first(report.found, "dose")
    numbers = {p.get("doseNumberPositiveInt") for p in content.get("protocolApplied") or []}
    return (2 * (vaccine is not None and vaccine.code in codes)
            + (number is not None and number.value in numbers))


def find_dose(svc: Services, report: Report) -> StoredVersion:
    """The subject's Immunization the report is about (422 naming the answer otherwise)."""
    named = first(report.found, "immunization")
    if named is not None:
        return _own(svc, report, named)
    day = first(report.found, "vaccination-date")
    if day is None or not isinstance(day.value, str):
        raise Unprocessable.at("Name the dose: answer `immunization` or `vaccination-date`",
                               "QuestionnaireResponse.item", "required")
    criteria = svc.search.criteria_for("Immunization", [
        ("patient", f"Patient/{report.patient_id}"), ("date", day.value[:10]),
        ("status", "completed")])
    doses = list(svc.store.find("Immunization", criteria, limit=20))
    if not doses:
        raise _not_theirs(report, f"A dose given on {day.value[:10]}", day.path)
    return max(doses, key=lambda dose: _score(dose, report))

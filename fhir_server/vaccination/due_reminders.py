"""Reminders of doses that fall due (issue 14 point 10, "next dose due"): part of
`fhir-server reminders`. Every next-dose ImmunizationRecommendation still open (`due` or
`overdue`) whose earliest date is the given day gets an in-app notice and one SMS, keyed
`next-dose-due/<patient>/<dose>/<day>` (a second run or a resumed one sends nothing twice).

The recommendations are found by `status=due,overdue` (forecastStatus) and their dates read
in code: R4 has no search parameter on dateCriterion, so a run reads every open series once
(fine for a nightly job; a custom index on the due date is the next step at national scale).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime

from fhir_server.interactions.context import Services
from fhir_server.scheduling.notice_batch import ChunkResult, send_chunk
from fhir_server.scheduling.notices import Notice, patient_name
from fhir_server.search.criteria import Sort
from fhir_server.vaccination.forecast import SERIES_SYSTEM, next_due

BY_ID = Sort((("_id", 1),))
CHUNK = 200  # notices recorded per transaction and texted per bulk insert


@dataclass
class DueRun:
    """What one run did: series due that day, notices written, texts queued, failures."""

    found: int = 0
    recorded: int = 0
    texted: int = 0
    failed: int = 0


def send_due_dose_reminders(svc: Services, day: date, now: datetime) -> DueRun:
    """Remind every person whose next dose falls due on `day`, at most once each."""
    svc = svc.internal()
    criteria = svc.search.criteria_for("ImmunizationRecommendation", [
        ("status", "due,overdue"), ("identifier", f"{SERIES_SYSTEM}|")])
    run = DueRun()
    chunk: list[tuple[str, str, str]] = []  # (recommendation id, patient id, dose)
    for version in svc.store.find("ImmunizationRecommendation", criteria, sort=BY_ID):
        recommendation = dict(version.resource or {})
        due = next_due(recommendation)
        patient_id = str((recommendation.get("patient") or {}).get("reference", "")
                         ).removeprefix("Patient/")
        if due is None or due[1] != day or not patient_id:
            continue
        run.found += 1
        dose = next((r.get("doseNumberPositiveInt") for r in recommendation["recommendation"]
                     if r.get("dateCriterion")), "")
        chunk.append((version.id, patient_id, str(dose)))
        if len(chunk) == CHUNK:
            _send(svc, chunk, day, now, run)
            chunk = []
    _send(svc, chunk, day, now, run)
    return run


def _send(svc: Services, chunk: list[tuple[str, str, str]], day: date, now: datetime,
          run: DueRun) -> None:
    """The chunk's notices (its Patients read in one query), recorded and texted in bulk."""
    if not chunk:
        return
    patients = {v.id: v.resource or {} for v in svc.search.engine.by_ids(
        "Patient", sorted({patient_id for _, patient_id, _ in chunk}))}
    notices = [Notice("next-dose-due", patient_id, f"ImmunizationRecommendation/{rec_id}",
                      f"next-dose-due/{patient_id}/{dose}/{day.isoformat()}",
                      {"name": patient_name(patients[patient_id]),
                       "when": day.strftime("%d/%m/%Y")})
               for rec_id, patient_id, dose in chunk if patient_id in patients]
    result = ChunkResult()
    send_chunk(svc, notices, now, result, patients)
    run.recorded += result.recorded
    run.texted += result.texted
    run.failed += result.failed

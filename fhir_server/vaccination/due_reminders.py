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
from functools import partial

from fhir_server.errors import FhirError
from fhir_server.interactions.context import Services
from fhir_server.scheduling.notices import Notice, notify_after, patient_name, record
from fhir_server.search.criteria import Sort
from fhir_server.vaccination.forecast import SERIES_SYSTEM, next_due

BY_ID = Sort((("_id", 1),))


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
        try:
            patient = svc.store.read("Patient", patient_id).resource or {}
            notice = Notice("next-dose-due", patient_id,
                            f"ImmunizationRecommendation/{version.id}",
                            f"next-dose-due/{patient_id}/{dose}/{day.isoformat()}",
                            {"name": patient_name(patient), "when": day.strftime("%d/%m/%Y")})
            if svc.store.transact(partial(record, svc, notice, now)):
                run.recorded += 1
            if notify_after(svc, notice, now):
                run.texted += 1
        except FhirError:  # one bad record does not stop the run; a rerun retries it
            run.failed += 1
    return run

"""The next dose of a person's primary series, as an ImmunizationRecommendation (R4
immunizationrecommendation.html; the dates as in the Immunization Decision Support Forecast IG:
LOINC 30981-5 earliest date to give, 30980-7 date due, 59777-3 latest date to give)."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date, timedelta
from typing import Any

from fhir_server.vaccination.schedule import Schedule, schedule_of

LOINC = "http://loinc.org"
STATUS_SYSTEM = "http://terminology.hl7.org/CodeSystem/immunization-recommendation-status"
SERIES_SYSTEM = "urn:fhir-server:next-dose"  # the recommendation's identifier: one per patient


def _given(immunization: dict[str, Any]) -> date | None:
    when = str(immunization.get("occurrenceDateTime") or "")[:10]
    try:
        return date.fromisoformat(when)
    except ValueError:
        return None


def doses_by_series(immunizations: Iterable[dict[str, Any]]
                    ) -> dict[Schedule, list[tuple[date, dict[str, Any]]]]:
    """Completed, dated doses of known vaccines, by series, oldest first."""
    series: dict[Schedule, list[tuple[date, dict[str, Any]]]] = {}
    for immunization in immunizations:
        schedule = schedule_of(immunization.get("vaccineCode"))
        given = _given(immunization)
        if immunization.get("status") == "completed" and schedule and given:
            series.setdefault(schedule, []).append((given, immunization))
    return {s: sorted(d, key=lambda pair: pair[0]) for s, d in series.items()}


def _criterion(code: str, display: str, when: date) -> dict[str, Any]:
    return {"code": {"coding": [{"system": LOINC, "code": code, "display": display}]},
            "value": when.isoformat()}


def _recommendation(schedule: Schedule, doses: list[tuple[date, dict[str, Any]]],
                    today: date) -> dict[str, Any]:
    vaccine = {"coding": [{"system": schedule.system, "code": schedule.code,
                           "display": schedule.display}]}
    supporting = [{"reference": f"Immunization/{imm['id']}"} for _, imm in doses if "id" in imm]
    entry: dict[str, Any] = {"vaccineCode": [vaccine], "supportingImmunization": supporting,
                             "seriesDosesPositiveInt": schedule.doses}
    if len(doses) >= schedule.doses:
        entry["forecastStatus"] = _status("complete", "Complete")
        entry["doseNumberPositiveInt"] = schedule.doses
        return entry
    last = doses[-1][0]
    earliest = last + timedelta(days=schedule.min_days)
    latest = last + timedelta(days=schedule.max_days)
    entry["doseNumberPositiveInt"] = len(doses) + 1
    entry["forecastStatus"] = (_status("overdue", "Overdue") if today > latest
                               else _status("due", "Due"))
    entry["dateCriterion"] = [_criterion("30981-5", "Earliest date to give", earliest),
                              _criterion("30980-7", "Date vaccine due", earliest),
                              _criterion("59777-3", "Latest date to give", latest)]
    return entry


def _status(code: str, display: str) -> dict[str, Any]:
    return {"coding": [{"system": STATUS_SYSTEM, "code": code, "display": display}]}


def forecast(patient_id: str, immunizations: Iterable[dict[str, Any]], today: date,
             ) -> dict[str, Any] | None:
    """The ImmunizationRecommendation for a patient's series (None: no known vaccine given)."""
    series = doses_by_series(immunizations)
    if not series:
        return None
    return {"resourceType": "ImmunizationRecommendation",
            "identifier": [{"system": SERIES_SYSTEM, "value": patient_id}],
            "patient": {"reference": f"Patient/{patient_id}"}, "date": today.isoformat(),
            "recommendation": [_recommendation(s, d, today) for s, d in series.items()]}


def next_due(recommendation: dict[str, Any]) -> tuple[str, date] | None:
    """(vaccine display, earliest date) of the first dose still due, or None."""
    for entry in recommendation.get("recommendation", []):
        for criterion in entry.get("dateCriterion", []):
            if criterion["code"]["coding"][0]["code"] == "30981-5":
                display = entry["vaccineCode"][0]["coding"][0].get("display", "")
                return display, date.fromisoformat(criterion["value"])
    return None

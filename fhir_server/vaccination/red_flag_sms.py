"""A red-flag reaction also reaches the citizen by SMS (issue 14 point 7), after the report is
stored: the same `red-flag-received` notice the reaction rule wrote in the report's transaction
(fhir_server/campaign/reaction_records.py, keyed by the report), texted once under that key, so
a retried or amended report never texts twice."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any

from fhir_server.campaign.reactions import is_report, parse
from fhir_server.interactions.context import Services
from fhir_server.scheduling.notices import VIETNAM, Notice, notify_after, patient_name
from fhir_server.storage.base import StoredVersion
from fhir_server.write_effects import add_effect


def text_red_flag(svc: Services, version: StoredVersion,
                  before: Mapping[str, Any] | None) -> None:
    """Queue the red-flag notice's SMS once (nothing for reports without red flags)."""
    resource = version.resource
    if not is_report(resource):
        return
    report = parse(resource or {})
    if not report.flags:
        return
    server = svc.internal()
    person = server.store.read("Patient", report.patient_id).resource or {}
    notice = Notice("red-flag-received", report.patient_id, "", f"red-flag/{report.key[:32]}",
                    {"name": patient_name(person) or f"Patient/{report.patient_id}"})
    notify_after(server, notice, datetime.now(VIETNAM))


add_effect("QuestionnaireResponse", text_red_flag)

"""The read marker of in-app notifications (FHIR R4 communication.html).

A notification is unread while its status is `in-progress`; reading it sets `completed` and
`received` (the time the recipient took it in). The app lists them with
`GET Communication?recipient=Patient/[id]&category=notification` and counts the unread with
`&status=in-progress&_summary=count`. Writes go through the caller's Repository (a citizen marks
only their own and their family's notifications) with the version read as a condition.
"""

from __future__ import annotations

from datetime import datetime

from fhir_server.interactions import crud
from fhir_server.interactions.context import Services
from fhir_server.scheduling.notices import CATEGORY_SYSTEM
from fhir_server.storage.base import StoredVersion

MAX_MARKED = 500  # notifications one $mark-read call marks


def mark_read(svc: Services, communication_id: str, now: datetime) -> StoredVersion:
    """Mark one notification read (unchanged when it already is)."""
    current = crud.read(svc, "Communication", communication_id)
    resource = dict(current.resource or {})
    if resource.get("status") != "in-progress":
        return current
    resource.update({"status": "completed", "received": now.isoformat()})
    return crud.update(svc, "Communication", communication_id, resource,
                       current.version).version


def mark_all_read(svc: Services, patient_id: str, now: datetime) -> int:
    """Mark every unread notification of a Patient read; how many were marked."""
    crud.read(svc, "Patient", patient_id)  # 404 when not the caller's to see
    criteria = svc.search.criteria_for("Communication", [
        ("recipient", f"Patient/{patient_id}"), ("status", "in-progress"),
        ("category", f"{CATEGORY_SYSTEM}|notification")])
    unread = [v.id for v in svc.store.find("Communication", criteria, limit=MAX_MARKED)]
    for communication_id in unread:
        mark_read(svc, communication_id, now)
    return len(unread)

"""The citizen is told of a booking or a cancellation whatever the door (issue 14 points 4, 9
and 10): a plain `POST`/`PUT`/`PATCH /Appointment` (or a bundle entry) that books or cancels
an Appointment gets the same in-app notice and SMS as `$book`/`$cancel`, keyed by the
Appointment's version (once). The operations write their own notice in their transaction and
set booking.NOTIFYING, so this effect stands back for them.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any

from fhir_server.auth.principal import CITIZEN, INTERNAL_PRINCIPAL, acting_as
from fhir_server.interactions.context import Services
from fhir_server.scheduling.booking import NOTIFYING, details, is_vaccination, patient_of
from fhir_server.scheduling.notices import VIETNAM, Notice, notify_after, record
from fhir_server.storage.base import StoredVersion
from fhir_server.write_effects import add_effect

CANCELLABLE = frozenset({"booked", "proposed", "pending", "waitlist"})


def notice_kind(before: Mapping[str, Any] | None, after: Mapping[str, Any],
                caller_kind: str) -> str | None:
    """Which notice a status change is (as the operations name them), or None."""
    old, new = (before or {}).get("status"), after.get("status")
    if old == new:
        return None
    vaccination = is_vaccination(dict(after))
    if new == "booked":
        return "registration-accepted" if vaccination else "booking-confirmed"
    if new == "cancelled" and old in CANCELLABLE:
        if not vaccination:
            return "booking-cancelled"
        declined = old != "booked" and caller_kind != CITIZEN
        return "registration-declined" if declined else "vaccination-cancelled"
    return None


def appointment_notice(svc: Services, version: StoredVersion,
                       before: Mapping[str, Any] | None) -> None:
    """Write and text the notice of a booking or cancellation made through a plain door."""
    appointment = dict(version.resource or {})
    patient = patient_of(appointment)
    kind = notice_kind(before, appointment, svc.caller.kind)
    if NOTIFYING.get() or patient is None or kind is None:
        return
    reason = str((appointment.get("cancelationReason") or {}).get("text") or "")
    notice = Notice(kind, patient, f"Appointment/{version.id}",
                    f"{kind}/{version.id}/{version.version}",
                    details(svc, appointment, reason))
    server, now = svc.internal(), datetime.now(VIETNAM)
    with acting_as(INTERNAL_PRINCIPAL):
        server.store.transact(lambda: record(server, notice, now))
    notify_after(server, notice, now)


add_effect("Appointment", appointment_notice)

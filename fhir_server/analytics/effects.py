"""After-write effects keeping the analytics facts and cells current (write_effects.py): every
create, update and delete of Patient, Appointment, Immunization, AdverseEvent, Provenance (a
VERIFY confirms a dose) and Flag (an active flag-detail disputes one) changes the facts of the
person(s) it concerns — the one before the write too, when a resource moves to another person —
and rolls the difference up. A failed effect is logged by write_effects; `fhir-server analytics
rebuild` recomputes everything from the stored resources."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import TYPE_CHECKING, Any

from fhir_server.analytics import facts
from fhir_server.analytics.updates import Rollup, set_area, set_entry, set_mark
from fhir_server.errors import Gone, NotFound
from fhir_server.write_effects import add_effect

if TYPE_CHECKING:
    from fhir_server.interactions.context import Services
    from fhir_server.storage.base import StoredVersion

Resource = Mapping[str, Any]
# type -> (section of the person document, fact of the resource, its person's id)
SECTIONS: dict[str, tuple[str, Callable[[Resource], Any], Callable[[Resource], str]]] = {
    "Immunization": ("doses", facts.dose_fact, lambda r: facts.ref_id(r.get("patient"),
                                                                     "Patient")),
    "Appointment": ("regs", facts.registration_fact, facts.appointment_patient),
    "AdverseEvent": ("events", facts.event_fact, lambda r: facts.ref_id(r.get("subject"),
                                                                       "Patient")),
}


def patient_changed(services: Services, version: StoredVersion, before: Resource | None) -> None:
    """A Patient written or deleted: the person's area."""
    area = facts.patient_fact(version.resource) if version.resource else {"p": "", "c": ""}
    Rollup(services.store).change(version.id, set_area(area))


def patients_created(services: Services, versions: Sequence[StoredVersion]) -> None:
    """Many Patients created (create_many): their areas, rolled up together."""
    Rollup(services.store).change_many([(v.id, set_area(facts.patient_fact(v.resource)))
                                        for v in versions])


def _entry_edits(version: StoredVersion, before: Resource | None
                 ) -> list[tuple[str, Callable[[dict[str, Any]], None]]]:
    section, fact_of, person_of = SECTIONS[version.type]
    now = person_of(version.resource) if version.resource else ""
    was = person_of(before) if before else ""
    edits = [(was, set_entry(section, version.id, None))] if was and was != now else []
    if now:
        edits.append((now, set_entry(section, version.id, fact_of(version.resource or {}))))
    return edits


def entry_changed(services: Services, version: StoredVersion, before: Resource | None) -> None:
    """A dose, registration or adverse event written or deleted: its person's facts (and the
    previous person's, when it moved)."""
    Rollup(services.store).change_many(_entry_edits(version, before))


def entries_created(services: Services, versions: Sequence[StoredVersion]) -> None:
    """Many doses, registrations or adverse events created (create_many), rolled up together."""
    Rollup(services.store).change_many([e for v in versions for e in _entry_edits(v, None)])


def _dose_owner(services: Services, dose_id: str) -> str:
    try:
        dose = services.internal().store.read("Immunization", dose_id).resource or {}
    except (NotFound, Gone):
        return ""
    return facts.ref_id(dose.get("patient"), "Patient")


def _marked(kind: str, doses_of: Callable[[Resource | None], list[str]]) -> Callable[..., None]:
    def effect(services: Services, version: StoredVersion, before: Resource | None) -> None:
        now, was = set(doses_of(version.resource)), set(doses_of(before))
        rollup = Rollup(services.store)
        for dose_id in sorted(now | was):
            rollup.change(_dose_owner(services, dose_id),
                          set_mark(dose_id, kind, version.id, dose_id in now))
    effect.__name__ = f"dose_{kind}_marked"
    return effect


add_effect("Patient", patient_changed, deletes=True, many=patients_created)
for _type in SECTIONS:
    add_effect(_type, entry_changed, deletes=True, many=entries_created)
add_effect("Provenance", _marked("p", facts.confirmed_doses), deletes=True)
add_effect("Flag", _marked("f", lambda flag: [d for d in [facts.disputed_dose(flag)] if d]),
           deletes=True)

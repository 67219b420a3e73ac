"""Notices in bulk for the nightly jobs (appointment reminders, doses due): a chunk of notices
costs a handful of round trips, not several per notice.

Per chunk: one transaction claims every key (one bulk upsert), finds the keys already used (one
search) and creates the missing Communications (one insert); after it commits, the phones are
read in two queries (the Patients, then RelatedPerson for those without one) and the texts are
queued and delivered through the outbox in bulk (notify/outbox.py). The same keys as one by one
(notices.py), so a chunk and a single notice never send the same event twice; a chunk that fails
is retried one notice at a time, so one bad record does not hold back the rest.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime
from functools import partial
from typing import Any

from fhir_server.errors import FhirError
from fhir_server.interactions.context import Services
from fhir_server.scheduling.notices import (
    NOTICE_SYSTEM,
    PREFIX,
    Notice,
    communication,
    phone_in,
    record,
    text_of,
)
from fhir_server.search.params import MAX_VALUES

log = logging.getLogger(__name__)


@dataclass
class ChunkResult:
    """What a chunk did: notices written, texts queued, notices that failed."""

    recorded: int = 0
    texted: int = 0
    failed: int = 0


def _record_all(svc: Services, notices: list[Notice], now: datetime) -> int:
    """Inside one transaction: claim the keys, skip those used, create the rest."""
    svc.store.claim_many([f"notice:{n.key}" for n in notices])
    used: set[str] = set()
    for group in range(0, len(notices), MAX_VALUES):  # a search takes so many values at once
        criteria = svc.search.criteria_for("Communication", [("identifier", ",".join(
            f"{NOTICE_SYSTEM}|{n.key}" for n in notices[group:group + MAX_VALUES]))])
        used.update(str(i.get("value")) for version in svc.store.find("Communication", criteria)
                    for i in (version.resource or {}).get("identifier") or []
                    if i.get("system") == NOTICE_SYSTEM)
    fresh = [n for n in notices if n.key not in used]
    if fresh:
        svc.store.create_many("Communication", [communication(n, text_of(n), now)
                                                for n in fresh])
    return len(fresh)


def record_chunk(svc: Services, notices: list[Notice], now: datetime,
                 result: ChunkResult) -> list[Notice]:
    """Write the chunk's Communications (one transaction; one by one when it fails); the
    notices now recorded or recorded before (those to text)."""
    try:
        result.recorded += svc.store.transact(partial(_record_all, svc, notices, now))
        return notices
    except FhirError as error:
        log.info("notice chunk failed (%s); one by one", error.message)
    done = []
    for notice in notices:
        try:
            result.recorded += svc.store.transact(partial(record, svc, notice, now))
            done.append(notice)
        except FhirError as error:  # a rerun retries it
            log.warning("notice %s failed: %s", notice.key, error.message)
            result.failed += 1
    return done


def phones_of(svc: Services, patient_ids: list[str],
              patients: dict[str, dict[str, Any]] | None = None) -> dict[str, str]:
    """The number to text for each Patient: theirs, else a linking account holder's
    (`patients`: those already read, by id)."""
    if patients is None:
        patients = {v.id: v.resource or {} for v in svc.search.engine.by_ids(
            "Patient", sorted(set(patient_ids)))}
    found = {pid: phone for pid in set(patient_ids)
             if (phone := phone_in(patients.get(pid, {}).get("telecom")))}
    missing = sorted(set(patient_ids) - set(found))
    for group in range(0, len(missing), MAX_VALUES):
        criteria = svc.search.criteria_for("RelatedPerson", [("patient", ",".join(
            f"Patient/{pid}" for pid in missing[group:group + MAX_VALUES]))])
        for version in svc.store.find("RelatedPerson", criteria):
            related: dict[str, Any] = version.resource or {}
            patient = str((related.get("patient") or {}).get("reference", "")
                          ).removeprefix("Patient/")
            phone = phone_in(related.get("telecom"))
            if phone and patient in missing and patient not in found:
                found[patient] = phone
    return found


def text_chunk(svc: Services, notices: list[Notice], result: ChunkResult,
               patients: dict[str, dict[str, Any]] | None = None) -> None:
    """Queue (once per key) and deliver the texts of recorded notices."""
    auth = svc.components.get("auth")
    if auth is None or not notices:
        return
    phones = phones_of(svc, [n.patient_id for n in notices], patients)
    messages = [(f"sms:{n.key}", phones[n.patient_id], f"{PREFIX}: {text_of(n)}")
                for n in notices if n.patient_id in phones]
    result.texted += auth.outbox.enqueue_many_once(messages)


def send_chunk(svc: Services, notices: list[Notice], now: datetime, result: ChunkResult,
               patients: dict[str, dict[str, Any]] | None = None) -> None:
    """Record a chunk of notices and text them (svc acts as the server; `patients`: the
    notices' Patients when already read)."""
    if notices:
        text_chunk(svc, record_chunk(svc, notices, now, result), result, patients)

"""Next-day reminders (Lịch hẹn): `fhir-server reminders [--date YYYY-MM-DD]`.

Every booked Appointment starting on the given day (Vietnam time; default tomorrow) gets an
in-app reminder (a Communication, notices.py) and one SMS, keyed `reminder/<id>/<day>`: a
second run, or a run after an interruption, finds the keys already used and sends nothing
twice, so the command is safe to repeat and resumes where it stopped. Appointments are walked
in id order through the server's own Repository (`svc.internal()`).
"""

from __future__ import annotations

import argparse
import logging
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from functools import partial
from typing import TextIO

from fhir_server.errors import FhirError
from fhir_server.interactions.context import Services
from fhir_server.scheduling.booking import details, patient_of
from fhir_server.scheduling.notices import VIETNAM, Notice, notify_after, record
from fhir_server.search.criteria import Sort

BY_ID = Sort((("_id", 1),))
CHUNK = 50  # notices recorded per transaction
log = logging.getLogger(__name__)


@dataclass
class ReminderRun:
    """What one run did: appointments found, notices written, texts queued, failures."""

    found: int = 0
    recorded: int = 0
    texted: int = 0
    failed: int = 0


def day_window(day: date) -> tuple[str, str]:
    """The UTC instants that bound a Vietnamese calendar day."""
    start = datetime.combine(day, time(0, 0), VIETNAM)
    return (start.astimezone(VIETNAM).isoformat(),
            (start + timedelta(days=1)).astimezone(VIETNAM).isoformat())


def send_reminders(svc: Services, day: date, now: datetime) -> ReminderRun:
    """Remind every citizen with a booked appointment on `day`, at most once each."""
    svc = svc.internal()
    low, high = day_window(day)
    criteria = svc.search.criteria_for("Appointment", [
        ("status", "booked"), ("date", f"ge{low}"), ("date", f"lt{high}")])
    run = ReminderRun()
    chunk: list[Notice] = []
    for version in svc.store.find("Appointment", criteria, sort=BY_ID):
        appointment = version.resource or {}
        patient = patient_of(appointment)
        if patient is None:
            continue
        run.found += 1
        chunk.append(Notice("reminder", patient, f"Appointment/{version.id}",
                            f"reminder/{version.id}/{day.isoformat()}",
                            details(svc, appointment)))
        if len(chunk) == CHUNK:
            _send(svc, chunk, now, run)
            chunk = []
    _send(svc, chunk, now, run)
    return run


def _send(svc: Services, notices: list[Notice], now: datetime, run: ReminderRun) -> None:
    """Record a chunk of notices in one transaction (one commit for many; each key claimed),
    one by one when the chunk fails; then queue their texts."""
    if not notices:
        return
    failed: set[str] = set()
    try:
        written = svc.store.transact(lambda: [record(svc, n, now) for n in notices])
        run.recorded += sum(written)
    except FhirError:
        for notice in notices:  # find the bad one; the others still go out
            try:
                run.recorded += svc.store.transact(partial(record, svc, notice, now))
            except FhirError as error:  # a rerun retries it
                log.warning("reminder %s failed: %s", notice.key, error.message)
                run.failed += 1
                failed.add(notice.key)
    for notice in notices:
        if notice.key in failed:
            continue
        try:
            run.texted += notify_after(svc, notice, now)
        except FhirError as error:
            log.warning("reminder SMS %s failed: %s", notice.key, error.message)
            run.failed += 1


def add_reminder_arguments(parser: argparse.ArgumentParser) -> argparse.ArgumentParser:
    """The `reminders` subcommand's options."""
    parser.add_argument("--date", type=date.fromisoformat, default=None,
                        help="the day whose appointments to remind (default: tomorrow, "
                             "Vietnam time)")
    return parser


def run_command(svc: Services, day: date | None, out: TextIO) -> int:
    """Run the reminders for a day and print what was done; the exit code."""
    now = svc.settings.clock()
    chosen = day or (now.astimezone(VIETNAM).date() + timedelta(days=1))
    run = send_reminders(svc, chosen, now)
    print(f"reminders for {chosen.isoformat()}: {run.found} booked appointment(s), "
          f"{run.recorded} new notice(s), {run.texted} SMS queued, {run.failed} failed "
          "(rerun to retry)", file=out)
    from fhir_server.vaccination.due_reminders import send_due_dose_reminders

    due = send_due_dose_reminders(svc, chosen, now)
    print(f"doses due {chosen.isoformat()}: {due.found} person(s), {due.recorded} new "
          f"notice(s), {due.texted} SMS queued, {due.failed} failed", file=out)
    return 1 if run.failed or due.failed else 0

"""Next-day reminders (Lịch hẹn): `fhir-server reminders [--date YYYY-MM-DD]`.

Every booked Appointment starting on the given day (Vietnam time; default tomorrow) gets an
in-app reminder (a Communication, notices.py) and one SMS, keyed `reminder/<id>/<day>`: a
second run, or a run after an interruption, finds the keys already used and sends nothing
twice, so the command is safe to repeat and resumes where it stopped. The day's Appointments
are read hour by hour, each hour one lookup of its 60 minute buckets in the search index (their
status checked here), so no query grows with the day (SecantusDB answers a query whole before
its first batch) — through the server's own Repository (`svc.internal()`).
"""

from __future__ import annotations

import argparse
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from typing import Any, TextIO

from fhir_server.interactions.context import Services
from fhir_server.scheduling.booking import notice_details, patient_of, site_name, site_refs
from fhir_server.scheduling.notice_batch import ChunkResult, send_chunk
from fhir_server.scheduling.notices import VIETNAM, Notice
from fhir_server.storage.base import StoredVersion

CHUNK = 200  # notices recorded per transaction and texted per bulk insert


@dataclass
class ReminderRun:
    """What one run did: appointments found, notices written, texts queued, failures."""

    found: int = 0
    recorded: int = 0
    texted: int = 0
    failed: int = 0


def hours_of(day: date) -> list[str]:
    """The day's 24 hours (Vietnam time), each as its 60 minutes: `date` search values that
    are exact calendar buckets (search.html#date eq), so each hour is one index lookup."""
    start = datetime.combine(day, time(0, 0), VIETNAM)
    return [",".join((start + timedelta(hours=hour, minutes=minute)).strftime(
        "%Y-%m-%dT%H:%M+07:00") for minute in range(60)) for hour in range(24)]


def send_reminders(svc: Services, day: date, now: datetime) -> ReminderRun:
    """Remind every citizen with a booked appointment on `day`, at most once each."""
    svc = svc.internal()
    run, sites = ReminderRun(), SiteNames(svc)
    chunk: list[StoredVersion] = []
    for hour in hours_of(day):  # bounded queries, whatever the day's size
        criteria = svc.search.criteria_for("Appointment", [("date", hour)])
        for version in svc.store.find("Appointment", criteria):
            appointment = version.resource or {}
            if appointment.get("status") != "booked" or patient_of(appointment) is None:
                continue
            run.found += 1
            chunk.append(version)
            if len(chunk) == CHUNK:
                _send(svc, chunk, day, now, sites, run)
                chunk = []
    _send(svc, chunk, day, now, sites, run)
    return run


class SiteNames:
    """Site names read once per run (a day's appointments share a few sites)."""

    def __init__(self, svc: Services) -> None:
        self.svc = svc
        self.names: dict[tuple[str, str], str] = {}

    def of(self, appointment: dict[str, Any]) -> str:
        """The first named Location or Practitioner of the Appointment ('' when none)."""
        for ref in site_refs(appointment):
            if ref not in self.names:
                self.names[ref] = site_name(self.svc, *ref)
            if self.names[ref]:
                return self.names[ref]
        return ""


def _send(svc: Services, chunk: list[StoredVersion], day: date, now: datetime,
          sites: SiteNames, run: ReminderRun) -> None:
    """The chunk's notices (its Patients read in one query), recorded and texted in bulk."""
    if not chunk:
        return
    patients = {v.id: v.resource or {} for v in svc.search.engine.by_ids(
        "Patient", sorted({patient_of(v.resource or {}) or "" for v in chunk}))}
    notices = []
    for version in chunk:
        appointment = version.resource or {}
        patient = patient_of(appointment) or ""
        notices.append(Notice("reminder", patient, f"Appointment/{version.id}",
                              f"reminder/{version.id}/{day.isoformat()}",
                              notice_details(appointment, patients.get(patient, {}),
                                             sites.of(appointment))))
    result = ChunkResult()
    send_chunk(svc, notices, now, result, patients)
    run.recorded += result.recorded
    run.texted += result.texted
    run.failed += result.failed


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

"""Bulk export jobs, kept as job records (storage/job_records.py) so that any server process can
answer status polls, and a process can take over a job whose worker died (stale heartbeat).

States: accepted -> in-progress -> completed | error; cancelled (DELETE on the status URL) and
expired (files removed after `Expires`) answer 404 on the status URL.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from datetime import datetime, timedelta
from typing import Any

from fhir_server.storage.job_records import JobRecords

STALE = timedelta(seconds=60)  # a running job without heartbeat for this long is taken over
KEEP = timedelta(hours=24)  # how long output files stay available (the Expires header)


@dataclass
class ExportRequest:
    """What a kick-off asked for, as the worker needs it."""

    level: str  # system | patient | group
    types: list[str]
    request: str  # the kick-off URL (manifest.request)
    group_id: str | None = None
    since: datetime | None = None
    owner: str | None = None  # who kicked it off (auth principal), for status/file access
    issues: list[str] = field(default_factory=list)  # ignored inputs (Prefer: handling=lenient)


class JobStore:
    """The life of export jobs: their timing (heartbeat, expiry) over the job records."""

    def __init__(self, records: JobRecords, clock: Callable[[], datetime],
                 stale: timedelta = STALE) -> None:
        self.records = records
        self.clock = clock
        self.stale = stale  # FHIR_JOB_STALE_SECONDS

    def create(self, request: ExportRequest) -> dict[str, Any]:
        """A new accepted job; its transactionTime is now."""
        now = self.clock()
        job = {"_id": uuid.uuid4().hex, "status": "accepted", "created": now,
               "transaction_time": now, "heartbeat": now, "progress": "accepted",
               **asdict(request)}
        self.records.insert(job)
        return job

    def get(self, job_id: str) -> dict[str, Any] | None:
        """The job, or None."""
        return self.records.get(job_id)

    def claim(self, job_id: str, worker: str) -> dict[str, Any] | None:
        """Take the job to run it: when accepted, or running with a stale heartbeat."""
        now = self.clock()
        return self.records.claim(job_id, worker, now, now - self.stale)

    def needs_worker(self, job: dict[str, Any]) -> bool:
        """True when nobody runs this job (never picked up, or its worker died)."""
        stale = self.clock() - self.stale
        heartbeat = job.get("heartbeat")
        if heartbeat is not None and heartbeat.tzinfo is None:
            heartbeat = heartbeat.replace(tzinfo=stale.tzinfo)
        return (job["status"] in ("accepted", "in-progress") and heartbeat is not None
                and heartbeat < stale)

    def beat(self, job_id: str, worker: str, progress: str) -> bool:
        """Record progress; False when the job was cancelled or taken over (stop working)."""
        return self.records.beat(job_id, worker, self.clock(), progress[:99])

    def complete(self, job_id: str, worker: str, output: list[dict[str, Any]],
                 errors: list[dict[str, Any]]) -> bool:
        """Mark the job done with its files; False when it was cancelled meanwhile."""
        now = self.clock()
        return self.records.complete(job_id, worker, output, errors, now, now + KEEP)

    def fail(self, job_id: str, worker: str, message: str) -> None:
        """Mark the job failed (the status URL answers 500 with the message)."""
        self.records.fail(job_id, worker, message[:1000], self.clock() + KEEP)

    def cancel(self, job_id: str) -> dict[str, Any] | None:
        """Cancel (or forget, when complete) a job; the job as it was, or None if unknown."""
        return self.records.cancel(job_id, self.clock())

    def expired(self) -> list[dict[str, Any]]:
        """Jobs past their Expires time whose files can go."""
        return self.records.expired(self.clock())

    def mark_expired(self, job_id: str) -> None:
        """Record that the job's files were removed."""
        self.records.mark_expired(job_id)

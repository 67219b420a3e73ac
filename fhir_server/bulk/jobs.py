"""Bulk export jobs, kept in the `_jobs` collection so that any server process can answer status
polls, and a process can take over a job whose worker died (stale heartbeat).

States: accepted -> in-progress -> completed | error; cancelled (DELETE on the status URL) and
expired (files removed after `Expires`) answer 404 on the status URL.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from datetime import datetime, timedelta
from typing import Any

from pymongo import ReturnDocument
from pymongo.database import Database

JOBS = "_jobs"
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
    """CRUD and state transitions of export jobs (atomic single-document updates)."""

    def __init__(self, db: Database[Any], clock: Callable[[], datetime]) -> None:
        self.collection = db[JOBS]
        self.clock = clock

    def create(self, request: ExportRequest) -> dict[str, Any]:
        """A new accepted job; its transactionTime is now."""
        now = self.clock()
        job = {"_id": uuid.uuid4().hex, "status": "accepted", "created": now,
               "transaction_time": now, "heartbeat": now, "progress": "accepted",
               **asdict(request)}
        self.collection.insert_one(job)
        return job

    def get(self, job_id: str) -> dict[str, Any] | None:
        """The job, or None."""
        return self.collection.find_one({"_id": job_id})

    def claim(self, job_id: str, worker: str) -> dict[str, Any] | None:
        """Take the job to run it: when accepted, or running with a stale heartbeat."""
        now = self.clock()
        return self.collection.find_one_and_update(
            {"_id": job_id, "$or": [{"status": "accepted"},
                                    {"status": "in-progress", "heartbeat": {"$lt": now - STALE}}]},
            {"$set": {"status": "in-progress", "worker": worker, "heartbeat": now,
                      "progress": "started"}},
            return_document=ReturnDocument.AFTER)

    def needs_worker(self, job: dict[str, Any]) -> bool:
        """True when nobody runs this job (never picked up, or its worker died)."""
        stale = self.clock() - STALE
        heartbeat = job.get("heartbeat")
        if heartbeat is not None and heartbeat.tzinfo is None:
            heartbeat = heartbeat.replace(tzinfo=stale.tzinfo)
        return (job["status"] in ("accepted", "in-progress") and heartbeat is not None
                and heartbeat < stale)

    def beat(self, job_id: str, worker: str, progress: str) -> bool:
        """Record progress; False when the job was cancelled or taken over (stop working)."""
        outcome = self.collection.update_one(
            {"_id": job_id, "worker": worker, "status": "in-progress"},
            {"$set": {"heartbeat": self.clock(), "progress": progress[:99]}})
        return outcome.matched_count == 1

    def complete(self, job_id: str, worker: str, output: list[dict[str, Any]],
                 errors: list[dict[str, Any]]) -> bool:
        """Mark the job done with its files; False when it was cancelled meanwhile."""
        now = self.clock()
        outcome = self.collection.update_one(
            {"_id": job_id, "worker": worker, "status": "in-progress"},
            {"$set": {"status": "completed", "output": output, "errors": errors,
                      "completed": now, "expires": now + KEEP, "progress": "completed"}})
        return outcome.matched_count == 1

    def fail(self, job_id: str, worker: str, message: str) -> None:
        """Mark the job failed (the status URL answers 500 with the message)."""
        self.collection.update_one({"_id": job_id, "worker": worker, "status": "in-progress"},
                                   {"$set": {"status": "error", "message": message[:1000],
                                             "expires": self.clock() + KEEP}})

    def cancel(self, job_id: str) -> dict[str, Any] | None:
        """Cancel (or forget, when complete) a job; the job as it was, or None if unknown."""
        return self.collection.find_one_and_update(
            {"_id": job_id, "status": {"$nin": ["cancelled", "expired"]}},
            {"$set": {"status": "cancelled", "expires": self.clock()}})

    def expired(self) -> list[dict[str, Any]]:
        """Jobs past their Expires time whose files can go."""
        return list(self.collection.find(
            {"expires": {"$lt": self.clock()}, "status": {"$ne": "expired"}}, {"_id": 1}))

    def mark_expired(self, job_id: str) -> None:
        """Record that the job's files were removed."""
        self.collection.update_one({"_id": job_id}, {"$set": {"status": "expired"}})

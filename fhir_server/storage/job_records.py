"""Bulk export job records (`_jobs`): one document per job, changed only by atomic
single-document updates conditioned on the job's status and worker, so that any server process
can answer status polls and exactly one process runs a job at a time.

The caller (bulk/jobs.py) owns the clock and the time limits; every method here takes the
instants it needs, so this module holds only the document layout and the conditions.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pymongo import ReturnDocument
from pymongo.database import Database

JOBS = "_jobs"


class JobRecords:
    """CRUD and conditional state transitions of export job documents."""

    def __init__(self, db: Database[Any]) -> None:
        self.collection = db[JOBS]

    def insert(self, job: dict[str, Any]) -> None:
        """Store a new job document (its `_id` is set by the caller)."""
        self.collection.insert_one(job)

    def status_counts(self) -> dict[str, int]:
        """Jobs by status (one `$group`)."""
        return {row["_id"]: row["n"] for row in self.collection.aggregate(
            [{"$group": {"_id": "$status", "n": {"$sum": 1}}}])}

    def get(self, job_id: str) -> dict[str, Any] | None:
        """The job, or None."""
        return self.collection.find_one({"_id": job_id})

    def claim(self, job_id: str, worker: str, now: datetime,
              stale_before: datetime) -> dict[str, Any] | None:
        """Set the job in-progress for this worker when it is accepted, or in progress with a
        heartbeat older than `stale_before`; the job after the change, or None."""
        return self.collection.find_one_and_update(
            {"_id": job_id, "$or": [{"status": "accepted"},
                                    {"status": "in-progress",
                                     "heartbeat": {"$lt": stale_before}}]},
            {"$set": {"status": "in-progress", "worker": worker, "heartbeat": now,
                      "progress": "started"}},
            return_document=ReturnDocument.AFTER)

    def beat(self, job_id: str, worker: str, now: datetime, progress: str) -> bool:
        """Record a heartbeat and progress; False unless this worker still runs the job."""
        outcome = self.collection.update_one(
            {"_id": job_id, "worker": worker, "status": "in-progress"},
            {"$set": {"heartbeat": now, "progress": progress}})
        return outcome.matched_count == 1

    def complete(self, job_id: str, worker: str, output: list[dict[str, Any]],
                 errors: list[dict[str, Any]], now: datetime, expires: datetime) -> bool:
        """Mark the job completed with its files; False unless this worker still runs it."""
        outcome = self.collection.update_one(
            {"_id": job_id, "worker": worker, "status": "in-progress"},
            {"$set": {"status": "completed", "output": output, "errors": errors,
                      "completed": now, "expires": expires, "progress": "completed"}})
        return outcome.matched_count == 1

    def fail(self, job_id: str, worker: str, message: str, expires: datetime) -> None:
        """Mark the job failed with a message, when this worker still runs it."""
        self.collection.update_one({"_id": job_id, "worker": worker, "status": "in-progress"},
                                   {"$set": {"status": "error", "message": message,
                                             "expires": expires}})

    def cancel(self, job_id: str, now: datetime) -> dict[str, Any] | None:
        """Mark a job that is neither cancelled nor expired cancelled (expiring now); the job
        as it was before, or None."""
        return self.collection.find_one_and_update(
            {"_id": job_id, "status": {"$nin": ["cancelled", "expired"]}},
            {"$set": {"status": "cancelled", "expires": now}})

    def expired(self, now: datetime) -> list[dict[str, Any]]:
        """The ids (as `{"_id": ...}`) of jobs past their expiry not yet marked expired."""
        return list(self.collection.find(
            {"expires": {"$lt": now}, "status": {"$ne": "expired"}}, {"_id": 1}))

    def mark_expired(self, job_id: str) -> None:
        """Record that the job's files were removed."""
        self.collection.update_one({"_id": job_id}, {"$set": {"status": "expired"}})

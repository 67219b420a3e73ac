"""The export worker of a server process: a small thread pool running claimed jobs, so exports
never block request threads. Job state lives in MongoDB (`_jobs`); a job whose process died is
taken over by the next status poll that sees its stale heartbeat.
"""

from __future__ import annotations

import logging
import os
import shutil
import threading
import uuid
from concurrent.futures import Future, ThreadPoolExecutor
from datetime import timedelta
from typing import Any

from fhir_server.auth.principal import INTERNAL_PRINCIPAL, acting_as
from fhir_server.bulk.export_run import job_dir, run_export
from fhir_server.bulk.jobs import JobStore
from fhir_server.interactions.context import Services
from fhir_server.storage.connection import connect
from fhir_server.storage.job_records import JobRecords

log = logging.getLogger(__name__)
THREADS = 2
_lock = threading.Lock()


class ExportWorker:
    """Runs export jobs in background threads of this process."""

    def __init__(self, svc: Services) -> None:
        self.svc = svc
        settings = svc.settings
        self.jobs = JobStore(JobRecords(connect(settings.mongodb_uri, settings.database)),
                             settings.clock, timedelta(seconds=settings.job_stale_seconds))
        self.pool = ThreadPoolExecutor(max_workers=THREADS, thread_name_prefix="fhir-export")
        self.name = f"{os.getpid()}-{uuid.uuid4().hex[:8]}"

    def submit(self, job_id: str) -> Future[None]:
        """Run the job in the background (if nobody else runs it)."""
        return self.pool.submit(self._run, job_id)

    def _run(self, job_id: str) -> None:
        run = f"{self.name}-{uuid.uuid4().hex[:6]}"  # each run its own claimant: a takeover
        job = self.jobs.claim(job_id, run)  # in this process stops the run it replaces
        if job is not None:
            # the kick-off checked the caller's access (admin or system: every patient); the
            # job reads through the repository as the server, in its own audit unit
            server = self.svc.internal()
            with acting_as(INTERNAL_PRINCIPAL), server.store.audit_unit("operation", "GET",
                                                                         f"$export {job_id}"):
                run_export(server, self.jobs, job, run)

    def adopt(self, job: dict[str, Any]) -> None:
        """Take over a job nobody is running (its process died)."""
        if self.jobs.needs_worker(job):
            log.warning("export %s: taking over a job without a live worker", job["_id"])
            self.submit(job["_id"])

    def sweep(self) -> None:
        """Remove the files of expired jobs."""
        for job in self.jobs.expired():
            shutil.rmtree(job_dir(self.svc, job["_id"]), ignore_errors=True)
            self.jobs.mark_expired(job["_id"])


def export_worker(svc: Services) -> ExportWorker:
    """The (lazily started) export worker of this process and app."""
    with _lock:
        worker = svc.components.get("bulk_export")
        if worker is None:
            worker = svc.components["bulk_export"] = ExportWorker(svc)
        assert isinstance(worker, ExportWorker)
        return worker

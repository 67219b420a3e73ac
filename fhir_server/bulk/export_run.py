"""Run one export job: write NDJSON files (one or more per type) under the export directory.

Files: <FHIR_EXPORT_DIR>/<job id>/<Type>-<n>-<run>.ndjson, at most FILE_LINES resources each;
an error file of OperationOutcomes (error.ndjson) lists inputs ignored under handling=lenient.
The worker beats the job's heartbeat every BEAT resources; a cancelled job stops at the next beat
and its directory is removed.

A run whose heartbeat went stale is taken over by a new run, which starts the job's folder afresh
(issue 16 point 3d). The old run may still be writing until its next beat fails: each run names
its files with its own tag so that it never opens (and truncates) a file of the new run, and a
run that finds the job taken over or completed by another run leaves the folder alone.
"""

from __future__ import annotations

import logging
import shutil
import uuid
from pathlib import Path
from typing import IO, Any

import orjson

from fhir_server.bulk.export_scope import ExportScope, group_patients
from fhir_server.bulk.jobs import JobStore
from fhir_server.interactions.context import Services
from fhir_server.model.jsonio import dumps

log = logging.getLogger(__name__)
FILE_LINES = 100_000
BEAT = 500


class Cancelled(Exception):
    """The job was cancelled (or taken over) while running."""


def job_dir(svc: Services, job_id: str) -> Path:
    """Where a job's files live."""
    return Path(svc.settings.export_dir) / job_id


class TypeFiles:
    """The NDJSON files of one resource type, split every FILE_LINES resources."""

    def __init__(self, folder: Path, type_name: str, run: str) -> None:
        self.folder = folder
        self.type_name = type_name
        self.run = run
        self.files: list[dict[str, Any]] = []
        self.stream: IO[bytes] | None = None

    def write(self, resource: dict[str, Any]) -> None:
        """Append one resource (a new file when the current one is full)."""
        if self.stream is None or self.files[-1]["count"] >= FILE_LINES:
            self._open()
        assert self.stream is not None
        self.stream.write(dumps(resource) + b"\n")  # decimals verbatim
        self.files[-1]["count"] += 1

    def _open(self) -> None:
        self.close()
        name = f"{self.type_name}-{len(self.files) + 1}-{self.run}.ndjson"
        self.stream = (self.folder / name).open("wb")
        self.files.append({"type": self.type_name, "file": name, "count": 0})

    def close(self) -> None:
        """Close the current file."""
        if self.stream is not None:
            self.stream.close()
            self.stream = None


def _scope(svc: Services, job: dict[str, Any]) -> ExportScope:
    patients = None
    if job["level"] == "group":
        group = svc.store.read("Group", job["group_id"]).resource or {}
        patients = group_patients(group, svc.settings.base_url)
    return ExportScope(svc, job["level"], job["transaction_time"], job.get("since"), patients)


def run_export(svc: Services, jobs: JobStore, job: dict[str, Any], worker: str) -> None:
    """Write the job's files and complete it (error status on failure)."""
    folder = job_dir(svc, job["_id"])
    shutil.rmtree(folder, ignore_errors=True)
    folder.mkdir(parents=True, exist_ok=True)
    output: list[dict[str, Any]] = []
    run = uuid.uuid4().hex[:8]
    try:
        scope = _scope(svc, job)
        types = job["types"]
        for number, type_name in enumerate(types, start=1):
            files = TypeFiles(folder, type_name, run)
            try:
                for count, resource in enumerate(scope.resources(type_name), start=1):
                    files.write(resource)
                    if count % BEAT == 0 and not jobs.beat(
                            job["_id"], worker, f"{type_name}: {count}; type {number}/"
                                                f"{len(types)}"):
                        raise Cancelled()
            finally:
                files.close()
            output += files.files
            if not jobs.beat(job["_id"], worker, f"{number}/{len(types)} types done"):
                raise Cancelled()
        errors = _error_file(folder, job.get("issues") or [])
        if not jobs.complete(job["_id"], worker, output, errors):
            raise Cancelled()
    except Cancelled:
        _stop(jobs, job["_id"], worker, folder)
    except Exception as exc:  # noqa: BLE001 - any failure is the job's error status
        if isinstance(exc, OSError) and not _still_ours(jobs, job["_id"], worker):
            # the files went with a cancel (or expiry sweep) or a takeover: not a failure
            _stop(jobs, job["_id"], worker, folder)
            return
        log.exception("export %s failed", job["_id"])
        jobs.fail(job["_id"], worker, f"The export failed: {exc}")
        shutil.rmtree(folder, ignore_errors=True)


def _still_ours(jobs: JobStore, job_id: str, worker: str) -> bool:
    """True while this worker runs the job (not cancelled, expired or taken over)."""
    current = jobs.get(job_id)
    return current is not None and current.get("status") == "in-progress" \
        and current.get("worker") == worker


def _stop(jobs: JobStore, job_id: str, worker: str, folder: Path) -> None:
    """Stop a run that is no longer ours: remove its files unless another worker took the job
    over or completed it (the files in the job's folder are then that worker's)."""
    current = jobs.get(job_id)
    if current is not None and current.get("worker") not in (None, worker) \
            and current.get("status") in ("in-progress", "completed"):
        log.info("export %s: taken over by %s; stopping", job_id, current.get("worker"))
        return
    shutil.rmtree(folder, ignore_errors=True)


def _error_file(folder: Path, issues: list[str]) -> list[dict[str, Any]]:
    """error.ndjson: one OperationOutcome per input the server ignored."""
    if not issues:
        return []
    with (folder / "error.ndjson").open("wb") as stream:
        for text in issues:
            outcome = {"resourceType": "OperationOutcome", "issue": [
                {"severity": "warning", "code": "not-supported", "diagnostics": text}]}
            stream.write(orjson.dumps(outcome) + b"\n")
    return [{"type": "OperationOutcome", "file": "error.ndjson", "count": len(issues)}]

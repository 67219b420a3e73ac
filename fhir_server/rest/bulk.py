"""Bulk Data export status and files (Bulk Data Access IG v2 export.html, async pattern):

  GET    [base]/_bulk/export/[job]          202 + X-Progress/Retry-After while running,
                                           200 + manifest (Expires) when complete, 500 on error
  DELETE [base]/_bulk/export/[job]          202: cancel (or release the files); then 404
  GET    [base]/_bulk/export/[job]/[file]   the NDJSON file (application/fhir+ndjson)

Authorization (requiresAccessToken = FHIR_AUTH_REQUIRED): status and files pass the same rule as
the kick-off (`$export` access "admin": administrators and system clients), and only the client
that started the job (or an administrator) sees it — see `_authorize`. A file download, allowed
or refused, leaves an AuditEvent naming its type and job (`_note_file`).
"""

from __future__ import annotations

from datetime import UTC
from email.utils import format_datetime
from typing import Any

from flask import Blueprint, Response, send_file

from fhir_server.auth import guard
from fhir_server.auth.principal import INTERNAL
from fhir_server.bulk.export_run import job_dir
from fhir_server.bulk.worker import ExportWorker, export_worker
from fhir_server.errors import Issue, NotFound
from fhir_server.interactions.context import Services
from fhir_server.model.jsonio import dumps
from fhir_server.operations.export import EVERY_TYPE, STATUS_PATH, note_export
from fhir_server.resource_types import is_supported
from fhir_server.rest.context import carries, request_services
from fhir_server.rest.errors import error_response
from fhir_server.storage.mongo import instant

bulk = Blueprint("fhir_bulk", __name__)
GONE = ("cancelled", "expired")


def _authorize(svc: Services, job: dict[str, Any] | None) -> None:
    """The hook guarding status and files: the kick-off's rule, and the same client."""
    principal = svc.caller
    guard.check_operation("admin", None, None, svc.settings.base_url, principal)
    if job is None:
        return
    owner = job.get("owner")
    if (owner and principal.kind != INTERNAL and principal.reference != owner
            and "admin" not in principal.roles):
        raise NotFound(f"No export job {job['_id']}")


def _job(job_id: str) -> tuple[Services, ExportWorker, dict[str, Any]]:
    svc = request_services()
    _authorize(svc, None)
    worker = export_worker(svc)
    job = worker.jobs.get(job_id[:64])
    if job is None or job["status"] in GONE:
        raise NotFound(f"No export job {job_id[:64]} (unknown, cancelled or expired)")
    _authorize(svc, job)
    return svc, worker, job


def _note_file(job_id: str, file_name: str) -> None:
    """Audit a file download before any check (refused ones too) as the personal-data access
    it is: the file's type (from its name: <Type>-<n>.ndjson), the job and the file."""
    type_name = file_name.split("-")[0]
    if file_name == "error.ndjson":
        type_name = "OperationOutcome"
    elif not is_supported(type_name):
        type_name = EVERY_TYPE  # not a file name of ours: it asks for the job's data
    note_export(request_services().store.unit, [type_name],
                f"$export job {job_id[:64]} file {file_name[:80]}")


def _url(svc: Services, job: dict[str, Any], item: dict[str, Any]) -> dict[str, Any]:
    return {"type": item["type"],
            "url": f"{svc.settings.base_url}/{STATUS_PATH}/{job['_id']}/{item['file']}",
            "count": item["count"]}


@bulk.get(f"/{STATUS_PATH}/<job_id>")
def export_status(job_id: str) -> Response:
    """Bulk Data status request: in progress, error, or the complete manifest."""
    svc, worker, job = _job(job_id)
    if job["status"] in ("accepted", "in-progress"):
        worker.adopt(job)
        return Response(status=202, headers={"X-Progress": job.get("progress", "in progress"),
                                             "Retry-After": "2"})
    if job["status"] == "error":
        return error_response(500, [Issue("exception", job.get("message", "export failed"))])
    manifest = {"transactionTime": instant(job["transaction_time"]), "request": job["request"],
                "requiresAccessToken": svc.settings.auth_required,
                "output": [_url(svc, job, item) for item in job.get("output", [])],
                "error": [_url(svc, job, item) for item in job.get("errors", [])]}
    expires = format_datetime(job["expires"].astimezone(UTC), usegmt=True)
    return Response(dumps(manifest), status=200, content_type="application/json",
                    headers={"Expires": expires})


@bulk.delete(f"/{STATUS_PATH}/<job_id>")
def export_cancel(job_id: str) -> Response:
    """Bulk Data delete request: cancel a running job or release a finished one's files."""
    svc, worker, job = _job(job_id)
    if worker.jobs.cancel(job["_id"]) is None:
        raise NotFound(f"No export job {job_id[:64]}")
    worker.sweep()
    return error_response(202, [Issue("informational", f"Export {job['_id']} cancelled",
                                      "information")])


@bulk.get(f"/{STATUS_PATH}/<job_id>/<file_name>")
@carries("read")
def export_file(job_id: str, file_name: str) -> Response:
    """Bulk Data output file request: one NDJSON file of a complete job."""
    _note_file(job_id, file_name)
    svc, _worker, job = _job(job_id)
    names = {item["file"] for item in [*job.get("output", []), *job.get("errors", [])]}
    if job["status"] != "completed" or file_name not in names:
        raise NotFound(f"No file {file_name[:80]} in export {job['_id']}")
    path = (job_dir(svc, job["_id"]) / file_name).resolve()
    if not path.is_file():
        raise NotFound(f"The file {file_name[:80]} of export {job['_id']} is gone")
    return send_file(path, mimetype="application/fhir+ndjson", conditional=True)

"""$export kick-off (Bulk Data Access IG v2, export.html): [base]/$export, [base]/Patient/$export
and [base]/Group/[id]/$export, GET (query parameters) or POST (a Parameters resource).

Answers 202 Accepted with Content-Location: the status URL polled for the manifest (see
fhir_server/rest/bulk.py). The job runs in a background thread of the server process. Supported
inputs: _outputFormat (ndjson), _since, _type; _elements, patient, includeAssociatedData and
_typeFilter are refused (400) unless `Prefer: handling=lenient`, which ignores them and lists them
in the manifest's error file. Allowed for administrators and system clients (access "admin");
each exported type must also be readable with the caller's scopes.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any
from urllib.parse import urlencode

from fhir_server.auth import guard
from fhir_server.auth.principal import INTERNAL, current_principal
from fhir_server.bulk.export_scope import exportable_types
from fhir_server.bulk.jobs import ExportRequest
from fhir_server.bulk.worker import export_worker
from fhir_server.errors import InvalidRequest, Issue, NotFound
from fhir_server.fhirdates import parse_instant
from fhir_server.interactions.context import Services
from fhir_server.interactions.history import EVERY_TYPE
from fhir_server.operations.registry import OperationCall, OperationResult, operation
from fhir_server.outcome import operation_outcome
from fhir_server.repository import AuditUnit
from fhir_server.resource_types import is_supported

OUTPUT_FORMATS = ("application/fhir+ndjson", "application/ndjson", "ndjson")
REFUSED = ("_elements", "patient", "includeAssociatedData", "_typeFilter")
STATUS_PATH = "_bulk/export"
MAX_AUDITED_TYPES = 50


def _level(call: OperationCall) -> str:
    if call.type_name is None:
        return "system"
    if call.type_name == "Patient" and call.resource_id is None:
        return "patient"
    if call.type_name == "Group" and call.resource_id is not None:
        return "group"
    where = "/".join(p for p in (call.type_name, call.resource_id) if p)
    raise NotFound(f"$export is offered at [base], [base]/Patient and [base]/Group/[id], "
                   f"not at {where}")


def _values(call: OperationCall, name: str) -> list[str]:
    """Every value of a parameter, repeated and comma-separated ones split."""
    values: list[str] = []
    for key, value in call.parameters():
        if key == name and value is not None:
            values += [part.strip() for part in str(value).split(",") if part.strip()]
    return values


def _types(call: OperationCall, level: str, lenient: bool, issues: list[str]) -> list[str]:
    allowed = exportable_types(level)
    asked = _values(call, "_type")
    if not asked:
        return allowed
    types: list[str] = []
    for type_name in asked:
        if type_name in allowed:
            types.append(type_name) if type_name not in types else None
            continue
        reason = ("is not supported by this server" if not is_supported(type_name)
                  else "is outside the Patient compartment")
        if not lenient:
            raise InvalidRequest.at(f"_type {type_name[:60]} {reason}", "_type", "not-supported")
        issues.append(f"_type {type_name[:60]} {reason}: ignored")
    if not types:
        raise InvalidRequest.at("_type names no type this export can return", "_type",
                                "not-supported")
    return types


def _request_url(svc: Services, call: OperationCall) -> str:
    path = "/".join(p for p in (call.type_name, call.resource_id) if p)
    url = f"{svc.settings.base_url}/{path + '/' if path else ''}$export"
    return url + (f"?{urlencode(call.query)}" if call.method == "GET" and call.query else "")


def request_of(svc: Services, call: OperationCall) -> ExportRequest:
    """Check a kick-off's inputs (400 for unsupported ones) and describe the job."""
    level = _level(call)
    lenient = "handling=lenient" in call.headers.get("prefer", "").replace(" ", "").lower()
    issues: list[str] = []
    for fmt in _values(call, "_outputFormat"):
        if fmt.lower() not in OUTPUT_FORMATS:
            raise InvalidRequest.at(f"_outputFormat {fmt[:60]} is not supported: use "
                                    "application/fhir+ndjson", "_outputFormat", "not-supported")
    for name in REFUSED:
        if _values(call, name):
            if not lenient:
                raise InvalidRequest.at(f"{name} is not supported by this server (send "
                                        "Prefer: handling=lenient to ignore it)", name,
                                        "not-supported")
            issues.append(f"{name} is not supported: ignored")
    since_values = _values(call, "_since")
    since = parse_instant(since_values[0], "_since") if since_values else None
    types = _types(call, level, lenient, issues)
    if level == "group":
        assert call.resource_id is not None
        svc.store.read("Group", call.resource_id)  # 404 / 410 for an unknown Group
    principal = current_principal()
    for type_name in types:
        guard.check_type("s", type_name, principal)
    owner = principal.reference if principal.kind != INTERNAL else None
    return ExportRequest(level=level, types=types, request=_request_url(svc, call),
                         group_id=call.resource_id, since=since, owner=owner, issues=issues)


def audit_scope(call: OperationCall) -> list[str]:
    """What a kick-off asks for, noted in its AuditEvent before the access check: the _type
    values (shared types too), or every type for a system export (Patient and Group levels
    name their target already)."""
    asked = [name for name in _values(call, "_type") if is_supported(name)]
    if asked:
        return asked[:MAX_AUDITED_TYPES]
    return [EVERY_TYPE] if call.type_name is None else []


def note_export(unit: AuditUnit, types: Sequence[str], description: str) -> None:
    """Note an export door (kick-off, output file) in the request's audit unit: the types it
    names, as asked (an export is audited whatever it holds), and a description."""
    unit.name(*types)
    unit.describe(description)


@operation("export", system=True, type_level=True, instance=True, types=("Patient", "Group"),
           methods=("GET", "POST"), access="admin", audit_scope=audit_scope,
           definition="http://hl7.org/fhir/uv/bulkdata/OperationDefinition/export",
           documentation="Bulk Data export (NDJSON) of the whole server, all patients or a "
                         "Group; asynchronous: 202 + Content-Location status URL")
def export(svc: Services, call: OperationCall) -> OperationResult:
    """Start an export job; 202 with the status URL in Content-Location."""
    request = request_of(svc, call)
    worker = export_worker(svc)
    worker.sweep()
    job: dict[str, Any] = worker.jobs.create(request)
    # the types again (a POST names them in its body) and the job its files belong to
    note_export(svc.store.unit, audit_scope(call), f"(job {job['_id']})")
    worker.submit(job["_id"])
    status_url = f"{svc.settings.base_url}/{STATUS_PATH}/{job['_id']}"
    body = operation_outcome([Issue("informational", f"Export started; poll {status_url}",
                                    "information")])
    return OperationResult(body=body, status=202, headers={"Content-Location": status_url})

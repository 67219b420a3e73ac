"""Run one Bundle entry through the same interactions as a single request, and render its
Bundle.entry.response (FHIR R4 http.html#transaction-response, bundle.html#Bundle.entry.response).
"""

from __future__ import annotations

import base64
import binascii
from dataclasses import dataclass, field
from typing import Any

from fhir_server.errors import Issue, NotFound, PreconditionFailed, Unprocessable
from fhir_server.interactions import crud
from fhir_server.interactions.bundle_errors import status_line
from fhir_server.interactions.bundle_parse import Entry
from fhir_server.interactions.context import Services, WriteResult, parse_criteria
from fhir_server.interactions.history import history
from fhir_server.interactions.search import search_type
from fhir_server.model.jsonio import loads
from fhir_server.outcome import operation_outcome
from fhir_server.search.shaping import read_shaping, shaped
from fhir_server.storage.base import StoredVersion
from fhir_server.storage.mongo import instant

RETURN_PREFERENCES = ("minimal", "representation", "operationoutcome")


@dataclass
class EntryResult:
    """What one entry did: its status, the version written or read, or a GET body."""

    status: int
    version: StoredVersion | None = None
    body: dict[str, Any] | None = None
    issues: list[Issue] = field(default_factory=list)
    text: str = ""

    @classmethod
    def of_write(cls, result: WriteResult) -> EntryResult:
        """The result of a create/update/patch."""
        version = result.version
        verb = "Created" if result.created else ("Updated" if result.changed else "Found")
        return cls(result.status, version, issues=list(result.issues),
                   text=f"{verb} {version.type}/{version.id} (version {version.version})")


def write_entry(svc: Services, type_name: str, resource: dict[str, Any],
                resource_id: str | None, if_match: int | None = None) -> EntryResult:
    """Create (server id, or the id planned for the entry) or update one resource."""
    if resource_id is None:
        return EntryResult.of_write(crud.create(svc, type_name, resource))
    body = {**resource, "id": resource_id} if resource.get("id") != resource_id else resource
    return EntryResult.of_write(crud.update(svc, type_name, resource_id, body, if_match))


def json_patch_of(binary: dict[str, Any]) -> Any:
    """The JSON Patch carried by a Binary entry resource (http.html#patch in Bundles)."""
    if binary.get("resourceType") != "Binary":
        raise Unprocessable("Only JSON Patch (a Binary with contentType "
                            "application/json-patch+json) is supported in Bundle PATCH entries",
                            code="not-supported")
    content_type = str(binary.get("contentType", "")).split(";", 1)[0].strip().lower()
    if content_type != "application/json-patch+json":
        raise Unprocessable(f"Binary.contentType must be application/json-patch+json, not "
                            f"'{content_type[:60]}'", code="not-supported")
    try:
        return loads(base64.b64decode(str(binary.get("data", "")), validate=True))
    except (binascii.Error, ValueError) as exc:
        raise Unprocessable(f"Binary.data is not base64 JSON: {exc}"[:300],
                            code="structure") from None


def patch_entry(svc: Services, entry: Entry) -> EntryResult:
    """PATCH Type/id with a JSON Patch Binary."""
    assert entry.type_name is not None and entry.resource_id is not None
    operations = json_patch_of(entry.resource or {})
    return EntryResult.of_write(crud.patch(svc, entry.type_name, entry.resource_id, operations,
                                           entry.if_match))


def delete_entry(svc: Services, type_name: str, resource_id: str,
                 if_match: int | None = None) -> EntryResult:
    """DELETE Type/id: 200 with the tombstone's ETag, 204 when nothing live was there."""
    tombstone = crud.delete(svc, type_name, resource_id, if_match)
    if tombstone is None:
        return EntryResult(204, text=f"{type_name}/{resource_id} is not there (already deleted "
                                     "or never existed)")
    return EntryResult(200, tombstone, text=f"Deleted {type_name}/{resource_id}")


def match_one(svc: Services, type_name: str, criteria: str, what: str) -> StoredVersion | None:
    """The single resource matching conditional criteria; None for none, 412 for several."""
    found = svc.search.match(type_name, parse_criteria(criteria))
    if len(found) > 1:
        raise PreconditionFailed(f"The {what} criteria matched more than one resource")
    return found[0] if found else None


def read_entry(svc: Services, entry: Entry) -> EntryResult:
    """GET/HEAD: read, vread, search-type, instance/type/system history, and $operations
    (GET or POST, bundle_operations.py)."""
    if entry.operation is not None:
        from fhir_server.interactions.bundle_operations import operation_entry
        return operation_entry(svc, entry)
    path, params = entry.path, parse_criteria(entry.query or "")
    if path == ("_history",):
        return EntryResult(200, body=history(svc, None, None, params))
    type_name = path[0]
    if len(path) == 1:
        return EntryResult(200, body=search_type(svc, type_name, params))
    if path[1] == "_history":
        return EntryResult(200, body=history(svc, type_name, None, params))
    if len(path) == 3:
        return EntryResult(200, body=history(svc, type_name, path[1], params))
    shaping = read_shaping(type_name, params)  # _summary / _elements, as on a single read
    if len(path) == 2:
        version = crud.read(svc, type_name, path[1])
    else:
        version = crud.vread(svc, type_name, path[1], path[3])
    if version.resource is None:
        raise NotFound(f"{type_name}/{path[1]} has no content")
    trimmed = shaped(version.resource, shaping)
    return EntryResult(200, version, body=None if trimmed is version.resource else trimmed)


def entry_interaction(entry: Entry) -> str:
    """The restful-interaction code of one entry (for its AuditEvent)."""
    if entry.operation is not None:
        return "operation"
    if entry.method in ("GET", "HEAD"):
        path = entry.path
        if "_history" in path:
            return "vread" if len(path) == 4 else "history-" + (
                "system" if len(path) == 1 else "type" if len(path) == 2 else "instance")
        return "read" if len(path) == 2 else ("search-type" if path else "search-system")
    return {"POST": "create", "PUT": "update", "PATCH": "patch",
            "DELETE": "delete"}.get(entry.method, "operation")


def response_entry(result: EntryResult, entry: Entry, base_url: str,
                   prefer: str = "representation") -> dict[str, Any]:
    """The response Bundle entry: fullUrl, resource (per Prefer), and response details."""
    out: dict[str, Any] = {}
    response: dict[str, Any] = {"status": status_line(result.status)}
    version = result.version
    if version is not None:
        if version.resource is not None:
            out["fullUrl"] = f"{base_url}/{version.type}/{version.id}"
        if entry.method in ("POST", "PUT", "PATCH"):
            response["location"] = f"{version.type}/{version.id}/_history/{version.version}"
        response["etag"] = version.etag
        response["lastModified"] = instant(version.last_updated)
    shown = result.body if result.body is not None or version is None else version.resource
    if shown is not None and entry.method != "HEAD" and (
            prefer == "representation" or entry.method in ("GET", "HEAD")
            or entry.operation is not None):
        out["resource"] = shown
    if prefer == "operationoutcome" and entry.method not in ("GET", "HEAD"):
        response["outcome"] = operation_outcome(
            [Issue("informational", result.text or status_line(result.status), "information"),
             *result.issues])
    elif result.issues:
        response["outcome"] = operation_outcome(result.issues)
    out["response"] = response
    return out


def error_entry(status: int, issues: list[Issue]) -> dict[str, Any]:
    """A batch-response entry for a failed entry: its status and OperationOutcome."""
    return {"response": {"status": status_line(status), "outcome": operation_outcome(issues)}}

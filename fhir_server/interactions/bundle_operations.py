"""$operations as batch/transaction entries (FHIR R4 http.html#transaction: an entry's request
may invoke an operation, e.g. `GET CodeSystem/$lookup?system=...&code=...` or `POST
ValueSet/$expand` with a Parameters resource); the result becomes the response entry's resource.

The operation goes through the same registry, level/method checks, audit note and access check
as a single request (operations/invoke.py). Operations that change state or answer
asynchronously (Bulk Data kick-off) are refused in Bundles: send them on their own.
"""

from __future__ import annotations

import base64
from typing import Any

from fhir_server.errors import InvalidRequest
from fhir_server.interactions.bundle_entry import EntryResult
from fhir_server.interactions.bundle_parse import Entry
from fhir_server.interactions.context import Services, parse_criteria

NOT_IN_BUNDLES = frozenset({"export"})  # asynchronous kick-off (202 + a job)


def _target(entry: Entry) -> tuple[str, str | None, str | None]:
    """The operation's name, type and id from the entry URL."""
    path = entry.path
    name = path[-1][1:]
    type_name = path[0] if len(path) >= 2 else None
    resource_id = path[1] if len(path) == 3 else None
    return name, type_name, resource_id


def _binary(body: bytes, content_type: str | None) -> dict[str, Any]:
    """A raw (non-JSON) result as a Binary resource."""
    return {"resourceType": "Binary", "contentType": content_type or "application/octet-stream",
            "data": base64.b64encode(body).decode("ascii")}


def operation_entry(svc: Services, entry: Entry) -> EntryResult:
    """Run the operation one entry names; its answer as the entry's result."""
    from fhir_server.operations.invoke import authorize, resolve
    from fhir_server.operations.registry import OperationCall

    name, type_name, resource_id = _target(entry)
    definition = resolve(name, type_name, resource_id, entry.method)
    if definition.affects_state or name in NOT_IN_BUNDLES:
        raise InvalidRequest(f"${name} cannot run inside a Bundle (it changes state or answers "
                             "asynchronously); send it as its own request",
                             code="not-supported")
    call = OperationCall(name=name, type_name=type_name, resource_id=resource_id,
                         method=entry.method, query=parse_criteria(entry.query or ""),
                         body=entry.resource)
    authorize(svc, definition, call)
    result = definition.handler(svc, call)
    body = (_binary(result.raw, result.content_type) if result.raw is not None
            else result.body)
    return EntryResult(result.status, body=body, text=f"${name} done")

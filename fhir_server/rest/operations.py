"""Routes for $operations at system, type and instance level, dispatched via the registry."""

from __future__ import annotations

from flask import Blueprint, Response, request

from fhir_server.auth import guard
from fhir_server.errors import MethodNotAllowed, NotFound
from fhir_server.interactions import crud
from fhir_server.interactions.context import Services
from fhir_server.model.jsonio import loads
from fhir_server.model.parse import check_id, check_type
from fhir_server.operations.registry import OperationCall, OperationDefinition, find
from fhir_server.rest.context import carries, request_services
from fhir_server.rest.negotiation import query_params
from fhir_server.rest.responses import json_response

operations = Blueprint("fhir_operations", __name__)
METHODS = ["GET", "POST", "PUT", "PATCH", "DELETE"]


def _note(svc: Services, definition: OperationDefinition, call: OperationCall) -> None:
    """Name the operation and its target in the request's audit unit before any check, so a
    refused call is audited too (FHIR R4 security.html#audit: every access attempt)."""
    unit = svc.store.unit
    unit.query = f"${call.name}" + (f"?{unit.query}" if unit.query else "")
    if call.type_name is not None:
        unit.touch(call.type_name, call.resource_id)
    for type_name in definition.audit_scope(call) if definition.audit_scope else ():
        unit.name(type_name)  # as asked, shared types too: this operation is audited


def _dispatch(name: str, type_name: str | None, resource_id: str | None) -> Response:
    definition = find(name)
    level_ok = definition is not None and (
        (type_name is None and definition.system)
        or (type_name is not None and resource_id is None and definition.type_level)
        or (resource_id is not None and definition.instance))
    if definition is None or not level_ok or (
            type_name is not None and definition.types and type_name not in definition.types):
        where = "/".join(p for p in (type_name, resource_id) if p) or "the system level"
        raise NotFound(f"Operation ${name[:60]} is not supported on {where}")
    if type_name is not None:
        check_type(type_name)
    if resource_id is not None:
        check_id(resource_id)
    if request.method not in definition.methods:
        error = MethodNotAllowed(f"${name} does not accept {request.method}")
        error.headers = {"Allow": ", ".join(definition.methods)}
        raise error
    svc = request_services()
    call = OperationCall(name=name, type_name=type_name, resource_id=resource_id,
                         method=request.method, query=query_params(request),
                         headers={k.lower(): v for k, v in request.headers.items()},
                         client_address=request.remote_addr)
    _note(svc, definition, call)
    instance = (crud.read(svc, type_name, resource_id).resource
                if type_name is not None and resource_id is not None
                and definition.access == "instance-read" else None)
    guard.check_operation(definition.access, type_name, instance, svc.settings.base_url,
                          svc.caller)
    raw = request.get_data(cache=False) if request.method != "GET" else b""
    if raw.strip():
        content_type = request.headers.get("Content-Type", "")
        call.body = raw if "json" not in content_type and content_type else loads(raw)
    result = definition.handler(svc, call)
    if result.raw is not None:
        return Response(result.raw, status=result.status, headers=result.headers,
                        content_type=result.content_type or "application/octet-stream")
    return json_response(request, result.body, result.status, result.headers)


@operations.route("/$<name>", methods=METHODS)
@carries("operation")
def system_operation(name: str) -> Response:
    """[base]/$name."""
    return _dispatch(name, None, None)


@operations.route("/<type_name>/$<name>", methods=METHODS)
@carries("operation")
def type_operation(type_name: str, name: str) -> Response:
    """[base]/[type]/$name."""
    return _dispatch(name, type_name, None)


@operations.route("/<type_name>/<resource_id>/$<name>", methods=METHODS)
@carries("operation")
def instance_operation(type_name: str, resource_id: str, name: str) -> Response:
    """[base]/[type]/[id]/$name."""
    return _dispatch(name, type_name, resource_id)

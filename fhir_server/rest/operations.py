"""Routes for $operations at system, type and instance level, dispatched via the registry."""

from __future__ import annotations

from flask import Blueprint, Response, request

from fhir_server.errors import NotAcceptable
from fhir_server.operations.invoke import authorize, resolve
from fhir_server.operations.registry import OperationCall
from fhir_server.rest.context import carries, request_services
from fhir_server.rest.negotiation import (
    CSV,
    operation_body,
    query_params,
    response_mimetype,
    wants_csv,
)
from fhir_server.rest.responses import json_response

operations = Blueprint("fhir_operations", __name__)
METHODS = ["GET", "POST", "PUT", "PATCH", "DELETE"]


@operations.before_request
def _negotiate() -> None:
    if not wants_csv(request):  # CSV: checked against the operation's formats below
        response_mimetype(request)  # 406 (e.g. another fhirVersion) before the operation runs


def _dispatch(name: str, type_name: str | None, resource_id: str | None) -> Response:
    definition = resolve(name, type_name, resource_id, request.method)
    media = CSV if wants_csv(request) else None
    if media is not None and media not in definition.formats:
        raise NotAcceptable(f"${name} does not answer {media}; use JSON or XML")
    svc = request_services()
    call = OperationCall(name=name, type_name=type_name, resource_id=resource_id,
                         method=request.method, query=query_params(request),
                         headers={k.lower(): v for k, v in request.headers.items()},
                         client_address=request.remote_addr, media=media)
    authorize(svc, definition, call)
    raw = request.get_data(cache=False) if request.method != "GET" else b""
    if raw.strip():
        call.body = operation_body(raw, request.headers.get("Content-Type", ""))
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

"""Turn interaction results into Flask responses (headers, Prefer, FHIR JSON or XML)."""

from __future__ import annotations

import logging
from typing import Any

from flask import Request, Response

from fhir_server.errors import Issue
from fhir_server.interactions.bundles import http_date
from fhir_server.interactions.context import WriteResult
from fhir_server.model.jsonio import dumps
from fhir_server.model.xml import dump_xml
from fhir_server.outcome import operation_outcome
from fhir_server.rest.negotiation import (
    FHIR_JSON,
    FHIR_XML,
    parse_prefer,
    response_mimetype,
    wants_pretty,
)
from fhir_server.storage.base import StoredVersion

log = logging.getLogger(__name__)


def json_response(request: Request, body: Any, status: int = 200,
                  headers: dict[str, str] | None = None) -> Response:
    """A FHIR JSON or, when negotiated, XML response (body None: no content and no
    Content-Type, RFC 9110 §8.3)."""
    if body is None:
        response = Response(b"", status=status, headers=headers or {})
        del response.headers["Content-Type"]
        return response
    mimetype = response_mimetype(request)
    pretty = bool(request.query_string) and wants_pretty(request)
    if mimetype == FHIR_XML:
        payload = as_xml(body, pretty)
        if payload is not None:
            return Response(payload, status=status, headers=headers or {},
                            content_type=f"{FHIR_XML}; charset=utf-8")
        mimetype = FHIR_JSON
    return Response(dumps(body, pretty=pretty), status=status, headers=headers or {},
                    content_type=f"{mimetype}; charset=utf-8")


def as_xml(body: Any, pretty: bool = False) -> bytes | None:
    """The FHIR XML of a resource; None (answer JSON) for a body R4 XML cannot express, e.g.
    an element the R4B models accepted that R4 does not define: never a 500 after the work."""
    if not isinstance(body, dict) or not isinstance(body.get("resourceType"), str):
        return None
    try:
        return dump_xml(body, pretty=pretty)
    except ValueError as exc:
        log.warning("cannot write %s as FHIR XML, answering JSON: %s",
                    body.get("resourceType"), exc)
        return None


def version_headers(base_url: str, version: StoredVersion,
                    location: bool = False) -> dict[str, str]:
    """ETag, Last-Modified (and Location) of a stored version."""
    headers = {"ETag": version.etag, "Last-Modified": http_date(version)}
    if location:
        headers["Location"] = (f"{base_url}/{version.type}/{version.id}/_history/"
                               f"{version.version}")
    return headers


def resource_response(request: Request, version: StoredVersion, base_url: str,
                      body: dict[str, Any] | None = None) -> Response:
    """A read/vread answer (the resource, or `body`: it shaped by _summary/_elements),
    honouring If-None-Match / If-Modified-Since (304)."""
    headers = version_headers(base_url, version)
    if_none_match = request.headers.get("If-None-Match")
    if if_none_match and version.etag in [tag.strip() for tag in if_none_match.split(",")]:
        return Response(status=304, headers=headers)
    if "If-Modified-Since" in request.headers:
        since = request.if_modified_since
        if since is not None and version.last_updated.replace(microsecond=0) <= since:
            return Response(status=304, headers=headers)
    return json_response(request, version.resource if body is None else body, 200, headers)


def write_response(request: Request, result: WriteResult, base_url: str) -> Response:
    """A create/update/patch answer shaped by Prefer: return=minimal|representation|outcome."""
    version = result.version
    headers = version_headers(base_url, version, location=True)
    wanted = parse_prefer(request).get("return", "representation")
    if wanted == "minimal":
        return json_response(request, None, result.status, headers)
    if wanted == "operationoutcome":
        verb = "Created" if result.created else ("Updated" if result.changed else "Found")
        text = f"{verb} {version.type}/{version.id} (version {version.version})"
        issues = [Issue("informational", text, "information"), *result.issues]
        return json_response(request, operation_outcome(issues), result.status, headers)
    return json_response(request, version.resource, result.status, headers)


def outcome_response(request: Request, text: str, status: int = 200,
                     headers: dict[str, str] | None = None) -> Response:
    """An informational OperationOutcome (e.g. after a delete)."""
    body = operation_outcome([Issue("informational", text, "information")])
    if parse_prefer(request).get("return") == "minimal":
        return json_response(request, None, 204, headers)
    return json_response(request, body, status, headers)

"""The one place where every error becomes an OperationOutcome response."""

from __future__ import annotations

import logging

from flask import Flask, Response, has_request_context, request
from werkzeug.exceptions import HTTPException, MethodNotAllowed

from fhir_server.errors import FhirError, Issue
from fhir_server.model.jsonio import dumps
from fhir_server.outcome import operation_outcome
from fhir_server.rest.negotiation import FHIR_XML, wants_xml
from fhir_server.rest.responses import as_xml
from fhir_server.storage.errors import is_database_error, is_database_unavailable

log = logging.getLogger(__name__)
RETRY_AFTER_SECONDS = 5  # database unavailable: when a client should try again

HTTP_ISSUE_CODES = {400: "invalid", 401: "login", 403: "forbidden", 404: "not-found",
                    405: "not-supported", 406: "not-supported", 409: "conflict",
                    410: "deleted", 412: "conflict", 413: "too-costly", 415: "not-supported",
                    422: "processing", 429: "throttled"}


def error_response(status: int, issues: list[Issue],
                   headers: dict[str, str] | None = None) -> Response:
    """An OperationOutcome response with the given status (FHIR XML when it was negotiated)."""
    outcome = operation_outcome(issues)
    if has_request_context() and wants_xml(request) and (payload := as_xml(outcome)):
        return Response(payload, status=status, headers=headers or {},
                        content_type=f"{FHIR_XML}; charset=utf-8")
    return Response(dumps(outcome), status=status, headers=headers or {},
                    content_type="application/fhir+json; charset=utf-8")


def database_unavailable() -> Response:
    """503 + Retry-After, OperationOutcome code transient: the database cannot be reached."""
    return error_response(503, [Issue("transient", "The database is unavailable; retry")],
                          {"Retry-After": str(RETRY_AFTER_SECONDS)})


def _fhir_error(exc: FhirError) -> Response:
    return error_response(exc.status, exc.issues, exc.headers)


def _http_error(exc: HTTPException) -> Response:
    status = exc.code or 500
    headers: dict[str, str] = {}
    if isinstance(exc, MethodNotAllowed) and exc.valid_methods:
        headers["Allow"] = ", ".join(sorted(exc.valid_methods))
        text = f"{request.method} is not allowed on {request.path}; allowed: {headers['Allow']}"
    elif status == 404:
        text = f"No FHIR endpoint at {request.path[:200]}"
    elif status == 413:
        text = "The request body is too large"
    else:
        text = exc.description or exc.name
    return error_response(status, [Issue(HTTP_ISSUE_CODES.get(status, "exception"), text)],
                          headers)


def _unexpected(exc: Exception) -> Response:
    if isinstance(exc, HTTPException):
        return _http_error(exc)
    if is_database_unavailable(exc):
        log.error("database unreachable: %s", exc)
        return database_unavailable()
    if is_database_error(exc):
        log.exception("database error")
        return error_response(500, [Issue("exception", "A database error occurred")])
    log.exception("unexpected error on %s %s", request.method, request.path)
    return error_response(500, [Issue("exception", "Internal server error")])


def register_error_handlers(app: Flask) -> None:
    """Route FhirError, HTTP errors and any other exception to OperationOutcome responses."""
    app.register_error_handler(FhirError, _fhir_error)
    app.register_error_handler(HTTPException, _http_error)
    app.register_error_handler(Exception, _unexpected)

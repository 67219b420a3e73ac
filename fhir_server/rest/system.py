"""System-level routes: /metadata and the service root."""

from __future__ import annotations

from flask import Blueprint, Response, current_app, request

from fhir_server.capability import capability_statement
from fhir_server.rest.responses import json_response

system = Blueprint("fhir_system", __name__)


@system.get("/healthz")
def healthz() -> Response:
    """Liveness probe: a trivial JSON answer that touches no database."""
    return Response(b'{"status":"ok"}', content_type="application/json")


@system.get("/metadata")
def metadata() -> Response:
    """capabilities: GET [base]/metadata."""
    svc = current_app.extensions["fhir"]
    started = current_app.config["FHIR_STARTED"]
    return json_response(request, capability_statement(svc.settings, started))

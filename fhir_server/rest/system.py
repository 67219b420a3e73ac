"""System-level routes: /metadata, /healthz (the process) and /readyz (the database, the
signing keys, the indexes)."""

from __future__ import annotations

import logging

import orjson
from flask import Blueprint, Response, current_app, request

from fhir_server.capability import capability_statement
from fhir_server.errors import MethodNotAllowed
from fhir_server.readiness import missing_keys
from fhir_server.rest.errors import database_unavailable
from fhir_server.rest.responses import json_response
from fhir_server.storage.connection import connect
from fhir_server.storage.errors import DatabaseError
from fhir_server.storage.ping import ping
from fhir_server.storage.readiness import missing_indexes

system = Blueprint("fhir_system", __name__)
log = logging.getLogger(__name__)


@system.get("/healthz")
def healthz() -> Response:
    """Liveness probe: a trivial JSON answer that touches no database."""
    return Response(b'{"status":"ok"}', content_type="application/json")


@system.get("/readyz")
def readyz() -> Response:
    """Readiness probe: 200 when the database answers a ping, the keys are loaded and the
    indexes exist; else 503 (+ Retry-After when the database is down) saying what is missing."""
    svc = current_app.extensions["fhir"]
    settings = svc.settings
    try:
        db = connect(settings.mongodb_uri, settings.database)
        ping(db)
        indexes = missing_indexes(db)
    except DatabaseError as exc:
        log.warning("readiness: database unreachable: %s", exc)
        return database_unavailable()
    keys = missing_keys(svc)
    ready = not indexes and not keys
    body = {"status": "ok" if ready else "unavailable", "database": "ok",
            "keys": "ok" if not keys else {"missing": keys},
            "indexes": "ok" if not indexes else {"missing": indexes}}
    return Response(orjson.dumps(body), status=200 if ready else 503,
                    content_type="application/json")


@system.get("/metadata")
def metadata() -> Response:
    """capabilities: GET [base]/metadata."""
    svc = current_app.extensions["fhir"]
    started = current_app.config["FHIR_STARTED"]
    return json_response(request, capability_statement(svc.settings, started))


@system.route("/metadata", methods=["PUT", "POST", "PATCH", "DELETE"])
def metadata_is_read_only() -> Response:
    """capabilities: /metadata is read only (405, not a conditional write on a type 'metadata')."""
    error = MethodNotAllowed(f"{request.method} is not allowed on /metadata: GET is its only "
                             "interaction (http.html#capabilities)")
    error.headers = {"Allow": "GET, HEAD"}
    raise error

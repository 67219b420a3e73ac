"""Flask side of observability (issue 16 point 2): the request id, per-request metrics and the
one-line request log, and GET /metrics (FHIR_METRICS: off, public or token)."""

from __future__ import annotations

import hmac
import logging
import os
import secrets
import string
from typing import Any

from flask import Flask, Response, g, request
from prometheus_client import CONTENT_TYPE_LATEST
from prometheus_client.registry import Collector

from fhir_server.auth.guard import unauthorized
from fhir_server.errors import NotFound
from fhir_server.metrics import monotonic, observe_request, scrape
from fhir_server.resource_types import RESOURCE_TYPES
from fhir_server.rest.context import route_interaction

REQUEST_ID_HEADER = "X-Request-ID"
_TOKEN_CHARS = frozenset(string.ascii_letters + string.digits + "-_.:")
log = logging.getLogger("fhir_server.request")


def request_id(header: str | None) -> str:
    """The caller's X-Request-ID when a sane token (1-64 of [A-Za-z0-9-_.:]), else a new one."""
    if header and len(header) <= 64 and set(header) <= _TOKEN_CHARS:
        return header
    return secrets.token_hex(16)


def current_request_id() -> str | None:
    """This request's id (None outside a request)."""
    return g.get("fhir_request_id") if g else None


def type_label() -> str:
    """The resource type the matched route names (known types only), else `-`."""
    name = (request.view_args or {}).get("type_name")
    return name if isinstance(name, str) and name in RESOURCE_TYPES else "-"


def init_metrics(app: Flask, collectors: list[Collector]) -> None:
    """Install the request-id/metrics/log hooks and GET /metrics (with these collectors)."""
    mode = os.environ.get("FHIR_METRICS", "public")

    @app.before_request
    def start() -> None:
        g.fhir_request_id = request_id(request.headers.get(REQUEST_ID_HEADER))
        g.fhir_started = monotonic()

    @app.after_request
    def finish(response: Response) -> Response:
        rid = g.get("fhir_request_id") or request_id(None)
        response.headers[REQUEST_ID_HEADER] = rid
        seconds = monotonic() - g.get("fhir_started", monotonic())
        endpoint, status = request.endpoint, response.status_code
        interaction = route_interaction() or ("capabilities" if endpoint ==
                                              "fhir_system.metadata" else "other")
        observe_request(interaction, type_label(), status, seconds)
        if log.isEnabledFor(logging.INFO):  # the record's fields only when it is written
            rule = request.url_rule.rule if request.url_rule else "-"
            log.info("%s %s %s", request.method, rule, status, extra={
                "request_id": rid, "method": request.method, "route": rule,
                "status": status, "duration_ms": round(seconds * 1000, 2)})
        return response

    @app.get("/metrics")
    def metrics() -> Response:
        if mode == "off":
            raise NotFound("metrics are off (FHIR_METRICS)")
        if mode == "token":
            expected = os.environ.get("FHIR_METRICS_TOKEN", "")
            scheme, _, given = (request.headers.get("Authorization") or "").partition(" ")
            if not expected or scheme.lower() != "bearer" or not hmac.compare_digest(
                    given.strip().encode(), expected.encode()):
                raise unauthorized()
        return Response(scrape(collectors), content_type=CONTENT_TYPE_LATEST)


REQUEST_ID_SYSTEM = "urn:fhir-server:request-id"


def request_id_entity(rid: str) -> dict[str, Any]:
    """The AuditEvent.entity naming the request (what.identifier; type 2: system object)."""
    return {"what": {"identifier": {"system": REQUEST_ID_SYSTEM, "value": rid}},
            "type": {"system": "http://terminology.hl7.org/CodeSystem/audit-entity-type",
                     "code": "2", "display": "System Object"}}

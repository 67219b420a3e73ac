"""Authentication of every request (Bearer tokens), the request's Repository bound to its
caller, and the request's AuditEvent (the audit unit the Repository filled)."""

from __future__ import annotations

from collections.abc import Callable
from functools import partial

from flask import Flask, Response, g, request

from fhir_server.auth.audit import audit_event
from fhir_server.auth.guard import unauthorized
from fhir_server.auth.principal import (
    ANONYMOUS_PRINCIPAL,
    INTERNAL_PRINCIPAL,
    Principal,
    reset_principal,
    set_principal,
)
from fhir_server.auth.tokens import rejected
from fhir_server.interactions.context import Services
from fhir_server.repository import AuditUnit
from fhir_server.rest.context import route_interaction
from fhir_server.rest.metrics import current_request_id, request_id_entity
from fhir_server.storage.mongo import instant

AUTHENTICATED_KINDS = ("citizen", "staff", "system")
FORM = "application/x-www-form-urlencoded"
CLIENT_AUTH_ENDPOINTS = frozenset({"smart_token.token", "metrics"})  # own Authorization


def _recorder(svc: Services, principal: Principal,
              address: str | None) -> Callable[[AuditUnit, int], None] | None:
    """How this request's audit units become AuditEvents (None: not audited)."""
    service, mode = svc.components.get("auth"), svc.settings.audit
    if service is None or mode == "off" or (
            mode == "authenticated" and principal.kind not in AUTHENTICATED_KINDS):
        return None

    def record(unit: AuditUnit, status: int) -> None:
        event = audit_event(principal, unit.method, unit.interaction, unit.refs, unit.query,
                            status, instant(service.audit.clock()), address)
        described = [{"description": f"type {name}"} for name in sorted(unit.types)
                     if not any(ref.startswith(name + "/") for ref in unit.refs)]
        if described:
            event.setdefault("entity", [])[0:0] = described
        rid = current_request_id()
        if rid:  # the request id of the log lines and X-Request-ID (README: Observability)
            event.setdefault("entity", []).append(request_id_entity(rid))
        service.audit.record(event)
    return record


def recorder_for(svc: Services, principal: Principal,
                 address: str | None) -> Callable[[AuditUnit, int], None] | None:
    """How a route's own audit units (e.g. the SMART patient picker) become AuditEvents."""
    return _recorder(svc, principal, address)


def _query() -> str | None:
    text = request.query_string.decode("utf-8", "replace")
    if request.method == "POST" and request.mimetype == FORM:
        body = request.get_data(cache=True, as_text=True)
        text = "&".join(part for part in (text, body) if part)
    return text or None


def _bind_unaudited(svc: Services, principal: Principal) -> Services:
    """The services of a route that carries no interaction (no audit recorder)."""
    return svc.bind(principal, None, AuditUnit("operation", request.method, _query()))


def init_authentication(app: Flask) -> None:
    """Install the hooks: who is asking and their Repository (before), audit (after)."""

    @app.before_request
    def authenticate() -> None:
        svc: Services = app.extensions["fhir"]
        service = svc.components.get("auth")
        header = request.headers.get("Authorization")
        g.fhir_principal_token = set_principal(ANONYMOUS_PRINCIPAL)  # until authenticated
        if header and service is not None and request.endpoint not in CLIENT_AUTH_ENDPOINTS:
            scheme, _, token = header.partition(" ")
            if scheme.lower() != "bearer" or not token.strip():
                raise unauthorized()
            if len(header) > 8192:
                raise rejected("too long")
            principal = service.sessions.principal(token.strip(), request.remote_addr)
        elif svc.settings.auth_required:
            principal = Principal("anonymous", "anonymous", address=request.remote_addr)
        else:
            principal = INTERNAL_PRINCIPAL  # FHIR_AUTH_REQUIRED=0: development only
        set_principal(principal)  # the teardown resets to what was there before the request
        interaction = route_interaction()
        if interaction is None:  # not audited: bound when the route asks for its services
            g.fhir_unbound = partial(_bind_unaudited, svc, principal)
            return
        unit = AuditUnit(interaction, request.method, _query())
        recorder = _recorder(svc, principal, request.remote_addr)
        g.fhir_services = svc.bind(principal, recorder, unit)

    @app.after_request
    def audit(response: Response) -> Response:
        bound: Services | None = g.get("fhir_services")
        if bound is not None:
            bound.store.finish(bound.store.unit, response.status_code)
            return response
        interaction = route_interaction()  # refused before a caller was known (bad token)
        svc: Services = app.extensions["fhir"]
        record = _recorder(svc, ANONYMOUS_PRINCIPAL, request.remote_addr) if interaction else None
        if record is not None:
            unit = AuditUnit(interaction or "operation", request.method, _query())
            unit.name(f"at {request.path[:200]}")
            record(unit, response.status_code)
        return response

    @app.teardown_request
    def forget(_exc: BaseException | None) -> None:
        g.pop("fhir_services", None)
        g.pop("fhir_unbound", None)
        token = g.pop("fhir_principal_token", None)
        if token is not None:
            reset_principal(token)

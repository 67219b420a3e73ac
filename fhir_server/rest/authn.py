"""Authentication of every request (Bearer tokens) and the audit of personal-data access."""

from __future__ import annotations

from flask import Flask, Response, g, request

from fhir_server.auth.audit import audit_event
from fhir_server.auth.guard import SHARED, unauthorized
from fhir_server.auth.principal import (
    ANONYMOUS_PRINCIPAL,
    INTERNAL_PRINCIPAL,
    Principal,
    current_principal,
    reset_principal,
    set_principal,
)
from fhir_server.auth.tokens import rejected
from fhir_server.resource_types import is_supported
from fhir_server.storage.mongo import instant

AUTHENTICATED_KINDS = ("citizen", "staff", "system")


def _interaction(method: str, parts: list[str]) -> str:
    if any(part.startswith("$") for part in parts):
        return "operation"
    if "_history" in parts:
        return "vread" if parts[-1] != "_history" else "history-instance"
    if len(parts) == 1:
        return {"GET": "search-type", "POST": "create", "PUT": "update",
                "DELETE": "delete"}.get(method, "search-type")
    if parts[-1] == "_search":
        return "search-type"
    return {"GET": "read", "HEAD": "read", "PUT": "update", "PATCH": "patch",
            "DELETE": "delete"}.get(method, "read")


def init_authentication(app: Flask) -> None:
    """Install the hooks: who is asking (before), audit (after), reset (teardown)."""

    @app.before_request
    def authenticate() -> None:
        svc = app.extensions["fhir"]
        service = svc.components.get("auth")
        header = request.headers.get("Authorization")
        g.fhir_principal_token = set_principal(ANONYMOUS_PRINCIPAL)  # until authenticated
        if header and service is not None:
            scheme, _, token = header.partition(" ")
            if scheme.lower() != "bearer" or not token.strip():
                raise unauthorized()
            if len(header) > 8192:
                raise rejected("too long")
            principal = service.sessions.principal(token.strip(), request.remote_addr)
        elif svc.settings.auth_required:
            principal = Principal("anonymous", "anonymous", address=request.remote_addr)
        else:
            principal = INTERNAL_PRINCIPAL
        set_principal(principal)  # the teardown resets to what was there before the request

    @app.after_request
    def audit(response: Response) -> Response:
        principal = current_principal()
        svc = app.extensions["fhir"]
        service, mode = svc.components.get("auth"), svc.settings.audit
        parts = [part for part in request.path.split("/") if part]
        if (service is None or mode == "off" or not parts or not is_supported(parts[0])
                or parts[0] in SHARED
                or (mode == "authenticated" and principal.kind not in AUTHENTICATED_KINDS)):
            return response
        what = f"{parts[0]}/{parts[1]}" if len(parts) > 1 and not parts[1].startswith(
            ("$", "_")) else parts[0]
        event = audit_event(principal, request.method, _interaction(request.method, parts),
                            [what] if "/" in what else [],
                            request.query_string.decode("utf-8", "replace") or None,
                            response.status_code, instant(service.audit.clock()),
                            request.remote_addr)
        if "/" not in what:
            event.setdefault("entity", []).insert(0, {"description": f"type {what}"})
        service.audit.record(event)
        return response

    @app.teardown_request
    def forget(_exc: BaseException | None) -> None:
        token = g.pop("fhir_principal_token", None)
        if token is not None:
            reset_principal(token)

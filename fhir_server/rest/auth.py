"""Account and token endpoints (/auth/*) and /.well-known/smart-configuration."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, Response, current_app, request

from fhir_server.auth.guard import unauthorized
from fhir_server.auth.people import (
    check_registration,
    create_account_patient,
)
from fhir_server.auth.principal import current_principal
from fhir_server.auth.service import AuthService
from fhir_server.errors import InvalidRequest, NotFound
from fhir_server.interactions.context import Services
from fhir_server.model.jsonio import dumps, loads

auth = Blueprint("fhir_auth", __name__)
NO_STORE = {"Cache-Control": "no-store", "Pragma": "no-cache"}


def _services() -> tuple[Services, AuthService]:
    svc: Services = current_app.extensions["fhir"]
    service = svc.components.get("auth")
    if service is None:
        raise NotFound("Accounts are not enabled on this server")
    return svc, service


def account_json(body: Any, status: int = 200, headers: dict[str, str] | None = None
                 ) -> Response:
    """A JSON answer of the account endpoints (never cached)."""
    return Response(dumps(body), status=status, content_type="application/json",
                    headers={**NO_STORE, **(headers or {})})


def account_body() -> dict[str, Any]:
    """The JSON object a request to an account endpoint sent (400 otherwise)."""
    raw = request.get_data(cache=False)
    body = loads(raw) if raw.strip() else {}
    if not isinstance(body, dict):
        raise InvalidRequest("The body must be a JSON object", code="structure")
    return body


@auth.post("/auth/register")
def register() -> Response:
    """Start a registration: full_name, phone, password (birthDate, gender, cccd, bhxh, bhyt
    optional)."""
    svc, service = _services()
    phone, registration = service.accounts.start_registration(
        account_body(), request.remote_addr, lambda pending: check_registration(svc, pending))
    return account_json({"status": "code-sent", "phone": phone, "registration": registration,
                  "expires_in": 300}, 202)


@auth.post("/auth/register/confirm")
def confirm() -> Response:
    """Finish a registration: its id and SMS code; the account is active, its Patient made."""
    svc, service = _services()
    account = service.accounts.confirm_registration(
        account_body(), lambda pending: create_account_patient(svc, pending,
                                                        service.accounts.is_linked))
    return account_json(service.sessions.open(account), 201)


@auth.post("/auth/login")
def login() -> Response:
    """Log in with phone or BHXH code and password."""
    _, service = _services()
    account = service.accounts.login(account_body(), request.remote_addr)
    return account_json(service.sessions.open(account))


@auth.post("/auth/token")
def token() -> Response:
    """OAuth 2.0 token endpoint: refresh_token rotation, or client_credentials (backend)."""
    _, service = _services()
    form = request.form.to_dict() if request.form else account_body()
    grant = form.get("grant_type")
    if grant == "refresh_token":
        return account_json(service.sessions.rotate(str(form.get("refresh_token", "")),
                                             service.accounts.get))
    if grant == "client_credentials":
        client_id, scopes = service.clients.authenticate(form)
        access = service.signer.issue({"sub": client_id, "kind": "system",
                                       "scope": str(scopes)}, 300)
        return account_json({"access_token": access, "token_type": "Bearer", "expires_in": 300,
                      "scope": str(scopes)})
    raise InvalidRequest.at("unsupported_grant_type: use refresh_token or client_credentials",
                            "grant_type", "not-supported")


@auth.post("/auth/logout")
def logout() -> Response:
    """End the session of the bearer token (and its refresh tokens)."""
    _, service = _services()
    principal = current_principal()
    if principal.session is None:
        raise unauthorized()
    service.sessions.revoke_session(principal.session)
    return Response(status=204, headers=NO_STORE)


@auth.post("/auth/password/reset")
def reset() -> Response:
    """Text a reset code to the account's phone (same answer whether it exists or not)."""
    _, service = _services()
    service.accounts.start_reset(account_body(), request.remote_addr)
    return account_json({"status": "code-sent-if-registered"}, 202)


@auth.post("/auth/password/reset/confirm")
def reset_confirm() -> Response:
    """Set a new password with the code; every session of the account is revoked."""
    _, service = _services()
    account = service.accounts.finish_reset(account_body())
    service.sessions.revoke_account(account["_id"])
    return Response(status=204, headers=NO_STORE)


@auth.get("/auth/jwks.json")
def jwks() -> Response:
    """The public key that signs access tokens."""
    _, service = _services()
    return account_json(service.signer.public_jwks(), headers={"Access-Control-Allow-Origin": "*"})


@auth.get("/.well-known/smart-configuration")
def smart_configuration() -> Response:
    """SMART App Launch discovery document."""
    _, service = _services()
    return account_json(service.smart_configuration(), headers={"Access-Control-Allow-Origin": "*"})

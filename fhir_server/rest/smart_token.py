"""POST /token, the OAuth 2.0 token endpoint of SMART apps and backend services
(app-launch.html#obtain-access-token, backend-services.html): authorization_code,
refresh_token and client_credentials grants, with RFC 6749 section 5.2 error bodies."""

from __future__ import annotations

from typing import Any
from urllib.parse import unquote_plus

from flask import Blueprint, Response, current_app, request

from fhir_server.auth.oauth_errors import (
    OAuthError,
    invalid_client,
    invalid_grant,
    invalid_request,
)
from fhir_server.auth.service import AuthService
from fhir_server.auth.smart_apps import SmartApps
from fhir_server.errors import InvalidRequest, NotFound, Unauthorized
from fhir_server.model.jsonio import dumps
from fhir_server.storage.app_client_records import AppClient

smart_token = Blueprint("smart_token", __name__)
NO_STORE = {"Cache-Control": "no-store", "Pragma": "no-cache"}
FORM = "application/x-www-form-urlencoded"


def _json(body: Any, status: int = 200, headers: dict[str, str] | None = None) -> Response:
    return Response(dumps(body), status=status, content_type="application/json",
                    headers={**NO_STORE, **(headers or {})})


def _services() -> tuple[AuthService, SmartApps]:
    components = current_app.extensions["fhir"].components
    if components.get("auth") is None or components.get("smart") is None:
        raise NotFound("Accounts are not enabled on this server")
    return components["auth"], components["smart"]


def _client(apps: SmartApps, form: dict[str, str]) -> AppClient:
    """The app making the request: HTTP Basic (confidential) or client_id alone (public)."""
    if "client_secret" in form or "client_assertion" in form:
        raise invalid_client("apps authenticate with client_secret_basic (confidential) or "
                             "send client_id alone (public)")
    auth = request.authorization
    if auth is not None and auth.type == "basic":
        client_id = unquote_plus(auth.username or "")
        if form.get("client_id", client_id) != client_id:
            raise invalid_request("client_id differs from the authenticated client")
        return apps.clients.authenticate(client_id, unquote_plus(auth.password or ""), True)
    if request.headers.get("Authorization"):
        raise invalid_client("unsupported client authentication scheme")
    if not form.get("client_id"):
        raise invalid_client("client_id is required (or HTTP Basic authentication)")
    return apps.clients.authenticate(form["client_id"], None, False)


def _session_refresh(service: AuthService, form: dict[str, str]) -> dict[str, Any]:
    """The citizen app's own refresh tokens (from /auth/login): rotate as /auth/token does."""
    if form.get("client_id") or request.authorization is not None:
        raise invalid_grant("refresh token unknown, expired or already used")
    try:
        return service.sessions.rotate(form.get("refresh_token", ""), service.accounts.get)
    except Unauthorized as exc:
        raise invalid_grant(exc.message.removeprefix("Invalid access token: ")) from None


def _backend(service: AuthService, form: dict[str, str]) -> dict[str, Any]:
    """SMART Backend Services: a private_key_jwt client assertion for system/ scopes."""
    try:
        client_id, scopes = service.clients.authenticate(form)
    except Unauthorized as exc:
        raise invalid_client(exc.message.removeprefix("invalid_client: ")) from None
    except InvalidRequest as exc:
        if exc.message.startswith("invalid_scope"):
            raise OAuthError("invalid_scope",
                             exc.message.removeprefix("invalid_scope: ")) from None
        raise invalid_request(exc.message) from None
    access = service.signer.issue({"sub": client_id, "kind": "system", "scope": str(scopes)},
                                  300)
    return {"access_token": access, "token_type": "Bearer", "expires_in": 300,
            "scope": str(scopes)}


def _grant(service: AuthService, apps: SmartApps) -> dict[str, Any]:
    if request.mimetype != FORM:
        raise invalid_request(f"the body must be {FORM}")
    raw = request.form
    if any(len(raw.getlist(key)) > 1 for key in raw):
        raise invalid_request("each parameter may be sent once")
    form = raw.to_dict()
    grant = form.get("grant_type", "")
    if grant == "authorization_code":
        return apps.tokens.exchange_code(_client(apps, form), form)
    if grant == "refresh_token":
        token = form.get("refresh_token", "")
        if not token:
            raise invalid_request("refresh_token is required")
        if apps.tokens.is_app_refresh_token(token):
            return apps.tokens.refresh(_client(apps, form), token)
        return _session_refresh(service, form)
    if grant == "client_credentials":
        return _backend(service, form)
    raise OAuthError("unsupported_grant_type", "use authorization_code, refresh_token or "
                     "client_credentials")


@smart_token.post("/token")
def token() -> Response:
    """Trade a code, refresh token or client assertion for an access token."""
    service, apps = _services()
    try:
        return _json(_grant(service, apps))
    except OAuthError as exc:
        return _json(exc.body(), exc.status, exc.headers)

"""SMART apps (public and confidential clients of the authorization code flow): registration
with exact redirect URIs and allowed scopes, client authentication at the token endpoint, and
the check of the scopes an authorization request asks for.

SMART App Launch 2.x: app-launch.html#register-app-with-ehr (redirect URIs registered up front),
client-confidential-symmetric.html (client_secret_basic), scopes-and-launch-context.html.
"""

from __future__ import annotations

import secrets
from urllib.parse import urlsplit

from fhir_server.auth.oauth_errors import OAuthError, invalid_client
from fhir_server.auth.passwords import hash_password, verify_password
from fhir_server.auth.scopes import ScopeSet, parse_scope
from fhir_server.errors import Conflict, InvalidRequest, NotFound
from fhir_server.storage.app_client_records import (
    CONFIDENTIAL,
    PUBLIC,
    AppClient,
    AppClientRecords,
)

LAUNCH_SCOPES = frozenset({"launch/patient", "offline_access", "online_access"})
LOOPBACK = frozenset({"localhost", "127.0.0.1", "[::1]", "::1"})


def check_redirect_uri(uri: str) -> str:
    """An https URI, an http loopback URI or a private-use (reverse DNS) scheme; no fragment."""
    parts = urlsplit(uri)
    if parts.fragment or "#" in uri or not parts.scheme:
        raise InvalidRequest(f"Redirect URI '{uri[:200]}' must be absolute, without fragment")
    host = (parts.hostname or "").lower()
    if parts.scheme == "https" and host or parts.scheme == "http" and host in LOOPBACK:
        return uri
    if parts.scheme not in ("http", "https") and "." in parts.scheme:
        return uri  # RFC 8252 section 7.1: a native app's private-use scheme
    raise InvalidRequest(f"Redirect URI '{uri[:200]}': use https (http only for loopback) or "
                         "a reverse-DNS private-use scheme")


def check_scope_token(scope: str) -> str | None:
    """Why an app may never be given this scope, or None when it may."""
    if scope in LAUNCH_SCOPES:
        return None
    try:
        permission = parse_scope(scope)
    except InvalidRequest as exc:
        return exc.message
    if permission is None:
        return f"'{scope[:80]}' is not offered (openid and fhirUser are not implemented)"
    if permission.context != "patient":
        return f"'{scope[:80]}': apps launched by a citizen get patient/ scopes only"
    if "?" in scope:
        return f"'{scope[:80]}': scopes with search parameters are not supported"
    return None


def allowed_scopes(client: AppClient, requested: str) -> ScopeSet:
    """The requested scopes when the client may ask for every one of them (invalid_scope)."""
    asked = list(dict.fromkeys(requested.split()))
    if not asked:
        raise OAuthError("invalid_scope", "scope is required")
    for scope in asked:
        reason = check_scope_token(scope)
        if reason:
            raise OAuthError("invalid_scope", reason)
    granted = ScopeSet.parse(client.scope).narrowed(" ".join(asked))
    refused = [s for s in asked if s not in granted.raw]
    if refused:
        raise OAuthError("invalid_scope",
                         f"this client may not ask for {' '.join(refused)[:200]}")
    return ScopeSet.parse(" ".join(asked))


class AppClients:
    """Registered apps: register, list, remove, authenticate."""

    def __init__(self, records: AppClientRecords) -> None:
        self.records = records

    def register(self, client_id: str, name: str, confidential: bool,
                 redirect_uris: list[str], scope: str) -> str | None:
        """Register an app; its client secret (shown once) when confidential, else None."""
        if not client_id or len(client_id) > 100 or not client_id.isprintable() or \
                " " in client_id:
            raise InvalidRequest("client id: 1 to 100 printable characters, no spaces")
        if not redirect_uris:
            raise InvalidRequest("an app needs at least one redirect URI")
        uris = tuple(dict.fromkeys(check_redirect_uri(uri) for uri in redirect_uris))
        scopes = ScopeSet.parse(scope)
        reasons = [r for r in (check_scope_token(s) for s in scopes.raw) if r]
        if reasons or not scopes.permissions:
            raise InvalidRequest("; ".join(reasons) or "an app needs patient/ scopes")
        secret = secrets.token_urlsafe(32) if confidential else None
        client = AppClient(client_id, name or client_id, CONFIDENTIAL if confidential else PUBLIC,
                           uris, str(scopes), hash_password(secret) if secret else None)
        if not self.records.insert(client):
            raise Conflict(f"Client {client_id} is registered already")
        return secret

    def get(self, client_id: str) -> AppClient | None:
        """A registered app, or None."""
        return self.records.get(client_id) if client_id and len(client_id) <= 100 else None

    def all(self) -> list[AppClient]:
        """Every registered app."""
        return self.records.all()

    def remove(self, client_id: str) -> None:
        """Unregister an app (404 when unknown)."""
        if not self.records.remove(client_id):
            raise NotFound(f"No app client {client_id}")

    def authenticate(self, client_id: str, secret: str | None, basic: bool) -> AppClient:
        """The client of a token request: confidential ones prove their secret, public ones
        send none (invalid_client otherwise)."""
        client = self.get(client_id)
        if client is None:
            verify_password(None, secret or "")  # same work as a real check
            raise invalid_client("unknown client", basic)
        if client.confidential:
            if not secret or not verify_password(client.secret_hash, secret):
                raise invalid_client("client authentication failed", basic)
        elif secret is not None:
            raise invalid_client("a public client sends no secret", basic)
        return client

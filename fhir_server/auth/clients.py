"""SMART Backend Services: registered clients authenticate with a private_key_jwt assertion.

SMART App Launch 2.x "Backend Services": POST token with grant_type=client_credentials,
client_assertion_type=urn:ietf:params:oauth:client-assertion-type:jwt-bearer and a JWT signed
by the client's key (iss = sub = client_id, aud = token URL, exp <= 5 minutes, unique jti).
"""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any

from jwcrypto import jwk, jwt
from jwcrypto.common import JWException

from fhir_server.auth.scopes import ScopeSet
from fhir_server.errors import Conflict, InvalidRequest, Unauthorized
from fhir_server.storage.session_records import ClientRecord, ClientRecords

ASSERTION_TYPE = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer"
ALGORITHMS = ["ES256", "ES384", "RS384"]


def invalid_client(reason: str) -> Unauthorized:
    """401 invalid_client (RFC 6749 section 5.2)."""
    error = Unauthorized(f"invalid_client: {reason}")
    error.headers = {"WWW-Authenticate": 'Bearer realm="fhir", error="invalid_client"'}
    return error


class Clients:
    """Registered system clients with their public keys and allowed system/ scopes."""

    def __init__(self, records: ClientRecords, token_url: str | list[str],
                 clock: Callable[[], datetime]) -> None:
        self.records = records
        self.token_url = token_url
        self.clock = clock

    def register(self, client_id: str, name: str, jwks: dict[str, Any], scope: str) -> None:
        """Register a client (its JWKS must hold public keys only)."""
        keys = jwks.get("keys") if isinstance(jwks, dict) else None
        if not keys or any("d" in key for key in keys):
            raise InvalidRequest("The client JWKS must hold public keys only")
        jwk.JWKSet.from_json(json.dumps(jwks))
        if any(not s.startswith("system/") for s in ScopeSet.parse(scope).raw):
            raise InvalidRequest("Backend clients get system/ scopes only")
        if not self.records.insert(ClientRecord(client_id, name, jwks, scope)):
            raise Conflict(f"Client {client_id} is registered already")

    def authenticate(self, form: dict[str, str]) -> tuple[str, ScopeSet]:
        """Check a client_credentials request; returns (client id, granted scopes)."""
        if form.get("client_assertion_type") != ASSERTION_TYPE:
            raise InvalidRequest("client_assertion_type must be " + ASSERTION_TYPE)
        assertion = form.get("client_assertion", "")
        try:
            unverified = jwt.JWT(jwt=assertion)
            claims = json.loads(unverified.token.objects["payload"])
        except (JWException, ValueError, KeyError, TypeError):
            raise invalid_client("malformed client_assertion") from None
        client_id = str(claims.get("iss", ""))
        client = self.records.get(client_id)
        if client is None or claims.get("sub") != client_id:
            raise invalid_client("unknown client or iss != sub")
        keys = jwk.JWKSet.from_json(json.dumps(client.jwks))
        try:
            jwt.JWT(jwt=assertion, key=keys, algs=ALGORITHMS,
                    check_claims={"aud": self.token_url, "exp": None, "jti": None})
        except (JWException, ValueError, KeyError, TypeError) as exc:
            raise invalid_client(f"assertion rejected ({type(exc).__name__})") from None
        now = self.clock().timestamp()
        if not now < float(claims["exp"]) <= now + 300 + 30:
            raise invalid_client("assertion exp must be within five minutes")
        if not self.records.remember_assertion(f"{client_id}:{claims['jti']}",
                                               self.clock() + timedelta(minutes=10)):
            raise invalid_client("assertion jti replayed")
        granted = ScopeSet.parse(client.scope)
        requested = form.get("scope", "").strip()
        scopes = granted.narrowed(requested) if requested else granted
        if requested and not scopes.raw:
            raise InvalidRequest("invalid_scope: none of the requested scopes is allowed")
        return client_id, scopes

"""Sessions: access tokens, rotating refresh tokens with reuse detection, revocation."""

from __future__ import annotations

import hashlib
import secrets
import threading
import time
from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any

from fhir_server.auth.principal import CITIZEN, STAFF, Principal
from fhir_server.auth.scopes import ScopeSet
from fhir_server.auth.tokens import TokenSigner, rejected
from fhir_server.errors import Unauthorized
from fhir_server.storage.session_records import SessionRecords

PRINCIPAL_CACHE = 4096  # principals kept per worker (a token's claims never change)

ACCESS_TTL = 600
REFRESH_TTL = timedelta(days=30)
ROLE_SCOPES = {"practitioner": "user/*.read user/*.write", "analyst": "user/*.read",
               "admin": "user/*.*"}
CITIZEN_SCOPES = "patient/*.read patient/*.write"


def _digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


class Sessions:
    """Issues token pairs for accounts and turns valid access tokens into principals."""

    def __init__(self, records: SessionRecords, signer: TokenSigner,
                 clock: Callable[[], datetime], base_url: str) -> None:
        self.records = records
        self.signer = signer
        self.clock = clock
        self.base_url = base_url
        self._revoked_cache: tuple[float, frozenset[str]] = (0.0, frozenset())
        # per token and caller address, built once (a token's claims are fixed)
        self._principals: dict[tuple[str, str | None], Principal] = {}
        self._lock = threading.Lock()

    def account_claims(self, account: dict[str, Any]) -> dict[str, Any]:
        """The claims describing an account (kind, patient context, family, roles, scopes)."""
        if account.get("kind") == STAFF:
            roles = list(account.get("roles", []))
            scope = " ".join(sorted({s for r in roles for s in ROLE_SCOPES.get(r, "").split()}))
            return {"sub": account["_id"], "kind": STAFF, "roles": roles, "scope": scope}
        patients = [account["patient"], *account.get("family", [])]
        return {"sub": account["_id"], "kind": CITIZEN, "patient": account["patient"],
                "fam": patients, "scope": CITIZEN_SCOPES,
                "fhirUser": f"{self.base_url}/Patient/{account['patient']}"}

    def open(self, account: dict[str, Any], session: str | None = None) -> dict[str, Any]:
        """A new access token and refresh token (a new session unless one is given)."""
        session = session or secrets.token_urlsafe(12)
        claims = {**self.account_claims(account), "sid": session}
        refresh = secrets.token_urlsafe(32)
        self.records.add_refresh(_digest(refresh), session, account["_id"],
                                 self.clock() + REFRESH_TTL)
        answer = {"access_token": self.signer.issue(claims, ACCESS_TTL), "token_type": "Bearer",
                  "expires_in": ACCESS_TTL, "scope": claims["scope"], "refresh_token": refresh}
        if "patient" in claims:
            answer["patient"] = claims["patient"]
        return answer

    def rotate(self, refresh_token: str, load_account: Callable[[str], dict[str, Any] | None]
               ) -> dict[str, Any]:
        """Trade a refresh token for a new pair; reusing an old one revokes the session."""
        record = self.records.spend_refresh(_digest(str(refresh_token)))
        if record is None:
            reused = self.records.find_refresh(_digest(str(refresh_token)))
            if reused is not None:
                self.revoke_session(reused.session)
            raise rejected("refresh token unknown, expired or already used")
        if record.session in self._revoked_sids(force=True):
            raise rejected("session revoked")
        account = load_account(record.account)
        if account is None or account.get("status") != "active":
            raise rejected("account not active")
        return self.open(account, record.session)

    def revoke_session(self, session: str) -> None:
        """Revoke a session: its refresh tokens and (within seconds) its access tokens."""
        self.records.revoke(session, self.clock() + timedelta(seconds=ACCESS_TTL + 60))
        self._revoked_cache = (0.0, frozenset())

    def revoke_account(self, account_id: str) -> None:
        """Revoke every session of an account (password reset, lockout)."""
        for session in self.records.sessions_of(account_id):
            self.revoke_session(session)

    def _revoked_sids(self, force: bool = False) -> frozenset[str]:
        loaded_at, sids = self._revoked_cache
        if force or time.monotonic() - loaded_at > 5:
            with self._lock:
                sids = self.records.revoked_sessions()
                self._revoked_cache = (time.monotonic(), sids)
        return sids

    def principal(self, token: str, address: str | None) -> Principal:
        """The principal of a valid access token (401 otherwise)."""
        claims = self.signer.verify(token)
        if claims.get("sid") and claims["sid"] in self._revoked_sids():
            raise rejected("session revoked")
        key = (token, address or None)
        built = self._principals.get(key)
        if built is None:
            kind = claims.get("kind")
            if kind not in ("citizen", "staff", "system"):
                raise Unauthorized("Invalid access token: unknown kind")
            built = Principal(kind=str(kind), subject=str(claims.get("sub")),
                              scopes=ScopeSet.parse(str(claims.get("scope", ""))),
                              patient_ids=frozenset(claims.get("fam", [])),
                              roles=frozenset(claims.get("roles", [])),
                              patient=claims.get("patient"), session=claims.get("sid"),
                              client=claims.get("client_id"), address=address or None)
            if len(self._principals) >= PRINCIPAL_CACHE:
                self._principals.clear()
            self._principals[key] = built
        return built

"""The token endpoint for SMART apps (app-launch.html#obtain-access-token): an authorization
code (single use, 60 s, same client and redirect URI, PKCE S256 verifier) or an app refresh
token (rotating; a reused one revokes the session) becomes an access token limited to the
consented scopes and to the chosen patient's compartment (`fam` holds that one patient).
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import re
import secrets
from collections.abc import Callable, Mapping
from datetime import datetime, timedelta
from typing import Any

from fhir_server.auth.accounts import Accounts
from fhir_server.auth.app_clients import AppClients
from fhir_server.auth.oauth_errors import invalid_grant, invalid_request
from fhir_server.auth.principal import CITIZEN
from fhir_server.auth.sessions import ACCESS_TTL, Sessions
from fhir_server.auth.smart_launch import digest
from fhir_server.storage.app_client_records import AppClient
from fhir_server.storage.launch_records import LaunchRecords, Record

VERIFIER = re.compile(r"[A-Za-z0-9\-._~]{43,128}")
REFRESH_TTL = {"offline_access": timedelta(days=30), "online_access": timedelta(hours=12)}


def s256(verifier: str) -> str:
    """The PKCE S256 challenge of a verifier (RFC 7636 section 4.2)."""
    raw = hashlib.sha256(verifier.encode("ascii")).digest()
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode("ascii")


def _password_mark(account: Mapping[str, Any]) -> str:
    """A digest of the account's password hash: a reset changes it (and ends app sessions)."""
    return digest(str(account.get("password", "")))[:32]


def _aware(moment: datetime, like: datetime) -> datetime:
    return moment.replace(tzinfo=like.tzinfo) if moment.tzinfo is None else moment


class AppTokens:
    """Issues app access and refresh tokens from codes and refresh tokens."""

    def __init__(self, records: LaunchRecords, clients: AppClients, accounts: Accounts,
                 sessions: Sessions, clock: Callable[[], datetime]) -> None:
        self.records, self.clients, self.accounts = records, clients, accounts
        self.sessions, self.clock = sessions, clock

    def exchange_code(self, client: AppClient, form: Mapping[str, str]) -> dict[str, Any]:
        """grant_type=authorization_code: check and spend the code, issue tokens."""
        code, verifier = form.get("code", ""), form.get("code_verifier", "")
        if not code or not form.get("redirect_uri"):
            raise invalid_request("code and redirect_uri are required")
        if not VERIFIER.fullmatch(verifier):
            raise invalid_request("code_verifier is required: 43 to 128 characters of "
                                  "A-Z a-z 0-9 - . _ ~ (RFC 7636)")
        record = self.records.spend_code(digest(code))
        if record is None:
            used = self.records.find_code(digest(code))
            if used is not None:  # RFC 6749 10.5: a replayed code ends what it gave
                self._revoke(str(used["sid"]))
                raise invalid_grant("authorization code already used")
            raise invalid_grant("authorization code unknown or expired")
        now = self.clock()
        if _aware(record["expires"], now) <= now:
            raise invalid_grant("authorization code expired")
        if record["client"] != client.id or record["redirect_uri"] != form["redirect_uri"]:
            raise invalid_grant("the code was issued to another client or redirect_uri")
        if not hmac.compare_digest(s256(verifier), str(record["challenge"])):
            raise invalid_grant("code_verifier does not match the code_challenge")
        account = self._account(record)
        return self._issue(record, account, str(record["sid"]))

    def refresh(self, client: AppClient, token: str) -> dict[str, Any]:
        """grant_type=refresh_token for an app's token: rotate it; a reuse revokes all."""
        record = self.records.spend_refresh(digest(token))
        if record is None:
            used = self.records.find_refresh(digest(token))
            if used is not None:
                self._revoke(str(used["sid"]))
            raise invalid_grant("refresh token unknown, expired or already used")
        now = self.clock()
        if record["client"] != client.id:
            raise invalid_grant("the refresh token was issued to another client")
        if _aware(record["expires"], now) <= now or \
                record["sid"] in self.sessions.records.revoked_sessions():
            raise invalid_grant("refresh token expired or its session revoked")
        account = self._account(record)
        if record.get("mark") != _password_mark(account):
            self._revoke(str(record["sid"]))
            raise invalid_grant("the password changed since this token was issued")
        return self._issue(record, account, str(record["sid"]), record["expires"])

    def is_app_refresh_token(self, token: str) -> bool:
        """True when the refresh token was issued to an app (used or not)."""
        return bool(token) and self.records.find_refresh(digest(token)) is not None

    def _account(self, record: Record) -> dict[str, Any]:
        account = self.accounts.get(str(record["account"]))
        if account is None or account.get("status") != "active" or \
                account.get("kind") != CITIZEN:
            raise invalid_grant("the account is not active")
        if record["patient"] not in [account.get("patient"), *account.get("family", [])]:
            raise invalid_grant("the patient is no longer linked to this account")
        return account

    def _issue(self, record: Record, account: Mapping[str, Any], sid: str,
               refresh_until: datetime | None = None) -> dict[str, Any]:
        scope, patient = str(record["scope"]), str(record["patient"])
        claims = {"sub": account["_id"], "kind": CITIZEN, "patient": patient, "fam": [patient],
                  "scope": scope, "sid": sid, "client_id": record["client"]}
        answer: dict[str, Any] = {
            "access_token": self.sessions.signer.issue(claims, ACCESS_TTL),
            "token_type": "Bearer", "expires_in": ACCESS_TTL, "scope": scope,
            "patient": patient, "need_patient_banner": True}
        lifetimes = [REFRESH_TTL[s] for s in scope.split() if s in REFRESH_TTL]
        if lifetimes:
            refresh = secrets.token_urlsafe(32)
            self.records.add_refresh({
                "_id": digest(refresh), "sid": sid, "account": account["_id"],
                "client": record["client"], "scope": scope, "patient": patient,
                "mark": _password_mark(account),
                "expires": refresh_until or self.clock() + max(lifetimes)})
            answer["refresh_token"] = refresh
        return answer

    def _revoke(self, sid: str) -> None:
        self.records.drop_session(sid)
        self.sessions.revoke_session(sid)

"""SMART App Launch 2.x standalone patient launch: the browser steps of the authorization code
flow (app-launch.html#obtain-authorization-code) — check the request, sign the citizen in with
the accounts code (its throttles and backoff), take their consent, let them pick the patient
(themselves or a linked family member), then hand the app a short-lived, single-use code.

Each sign-in is a stored record bound to the browser by a cookie secret (kept as a digest) and
to its forms by a CSRF token; it moves login → consent → patient by conditional updates.
"""

from __future__ import annotations

import hashlib
import hmac
import re
import secrets
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from urllib.parse import urlencode, urlsplit, urlunsplit

from fhir_server.auth.accounts import Accounts
from fhir_server.auth.app_clients import AppClients, allowed_scopes
from fhir_server.auth.oauth_errors import OAuthError, UntrustedRedirect, invalid_request
from fhir_server.auth.principal import CITIZEN
from fhir_server.auth.scopes import parse_scope
from fhir_server.storage.launch_records import LaunchRecords, Record

SIGN_IN_TTL = timedelta(minutes=15)
CODE_TTL = timedelta(seconds=60)
CHALLENGE = re.compile(r"[A-Za-z0-9_-]{43}")
LANGUAGES = ("vi", "en")


def digest(secret: str) -> str:
    """The SHA-256 hex digest under which a secret (cookie, code, token) is stored."""
    return hashlib.sha256(secret.encode()).hexdigest()


def with_query(uri: str, params: Mapping[str, str | None]) -> str:
    """The URI with these parameters added to its query (None values left out)."""
    parts = urlsplit(uri)
    extra = urlencode({k: v for k, v in params.items() if v is not None})
    query = f"{parts.query}&{extra}" if parts.query else extra
    return urlunsplit((parts.scheme, parts.netloc, parts.path, query, ""))


@dataclass
class RedirectBack(Exception):
    """End the sign-in by sending the browser back to the app (with a code or an error)."""

    location: str

    def __post_init__(self) -> None:
        super().__init__(self.location)


@dataclass(frozen=True)
class SignIn:
    """A sign-in in progress, as the pages need it."""

    id: str
    csrf: str
    client: str
    client_name: str
    scope: str
    step: str
    lang: str
    account: str | None
    state: str


def _sign_in(record: Record, client_name: str) -> SignIn:
    return SignIn(record["_id"], record["csrf"], record["client"], client_name,
                  record["scope"], record["step"], record["lang"], record.get("account"),
                  record["state"])


class SmartLaunch:
    """The authorization endpoint's steps, from the app's request to the code."""

    def __init__(self, records: LaunchRecords, clients: AppClients, accounts: Accounts,
                 clock: Callable[[], datetime], base_url: str) -> None:
        self.records, self.clients, self.accounts = records, clients, accounts
        self.clock, self.base_url = clock, base_url.rstrip("/")

    def begin(self, params: Mapping[str, str], browser: str, lang: str) -> SignIn:
        """Check an authorization request and open its sign-in (UntrustedRedirect when the
        client or redirect URI is not registered; RedirectBack with error= otherwise)."""
        client = self.clients.get(params.get("client_id", ""))
        if client is None:
            raise UntrustedRedirect("unknown_client")
        redirect_uri = params.get("redirect_uri", "")
        if redirect_uri not in client.redirect_uris:
            raise UntrustedRedirect("bad_redirect")
        state = params.get("state") or None
        try:
            self._check(params, state)
            scope = str(allowed_scopes(client, params.get("scope", "")))
        except OAuthError as exc:
            raise RedirectBack(with_query(redirect_uri, {
                "error": exc.error, "error_description": exc.description, "state": state})
                ) from None
        record: Record = {
            "_id": secrets.token_urlsafe(18), "browser": digest(browser),
            "csrf": secrets.token_urlsafe(24), "client": client.id,
            "redirect_uri": redirect_uri, "scope": scope, "state": state,
            "challenge": params["code_challenge"], "lang": lang, "step": "login",
            "account": None, "expires": self.clock() + SIGN_IN_TTL}
        self.records.add_request(record)
        return _sign_in(record, client.name)

    def _check(self, params: Mapping[str, str], state: str | None) -> None:
        """The request's checks that are answered by redirecting back with an error."""
        if params.get("response_type") != "code":
            raise OAuthError("unsupported_response_type", "response_type must be code")
        if not state or len(state) > 512:
            raise invalid_request("state is required (at most 512 characters)")
        if params.get("launch"):
            raise invalid_request("EHR launch is not supported: use a standalone launch")
        if str(params.get("aud", "")).rstrip("/") != self.base_url:
            raise invalid_request(f"aud must be this FHIR server: {self.base_url}")
        if params.get("code_challenge_method") != "S256":
            raise invalid_request("PKCE with code_challenge_method=S256 is required "
                                  "(plain is not supported)")
        if not CHALLENGE.fullmatch(params.get("code_challenge", "")):
            raise invalid_request("code_challenge must be the base64url SHA-256 of the "
                                  "code verifier (43 characters)")

    def load(self, request_id: str, browser: str | None, csrf: str | None = None) -> SignIn:
        """The sign-in of this browser (and form, when a CSRF token is given); an error page
        when it is unknown, expired, or another browser's."""
        record = self.records.get_request(request_id) if request_id else None
        if record is None or not browser or not hmac.compare_digest(
                record["browser"], digest(browser)):
            raise UntrustedRedirect("expired")
        if csrf is not None and not hmac.compare_digest(record["csrf"].encode(), csrf.encode()):
            raise UntrustedRedirect("csrf", 403)
        if _aware(record["expires"], self.clock()) <= self.clock():
            raise UntrustedRedirect("expired")
        client = self.clients.get(record["client"])
        if client is None:
            raise UntrustedRedirect("unknown_client")
        return _sign_in(record, client.name)

    def set_language(self, sign_in: SignIn, lang: str) -> SignIn:
        """Show the sign-in's pages in another language."""
        record = self.records.advance(sign_in.id, sign_in.step, {"lang": lang})
        return sign_in if record is None else _sign_in(record, sign_in.client_name)

    def login(self, sign_in: SignIn, form: Mapping[str, str], address: str | None) -> SignIn:
        """Check the citizen's password (accounts.login: its throttles and backoff) and move
        to consent; the FhirErrors of a failed login pass through."""
        self._at(sign_in, "login")
        account = self.accounts.login({"username": form.get("username", ""),
                                       "password": form.get("password", "")}, address)
        if account.get("kind") != CITIZEN or not account.get("patient"):
            raise UntrustedRedirect("not_citizen", 403)
        record = self.records.advance(sign_in.id, "login", {
            "account": account["_id"], "step": "consent", "csrf": secrets.token_urlsafe(24)})
        if record is None:
            raise UntrustedRedirect("expired")
        return _sign_in(record, sign_in.client_name)

    def consent(self, sign_in: SignIn, allow: bool, kept: list[str] | None = None) -> SignIn:
        """The citizen's answer, with the scopes they kept (all when None): on to the patient
        picker, or back to the app with access_denied (refused, or every scope unticked)."""
        self._at(sign_in, "consent")
        scope = [s for s in sign_in.scope.split() if kept is None or s in kept]
        if not allow or not any(parse_scope(s) for s in scope):
            record = self.records.finish_request(sign_in.id, "consent")
            if record is None:
                raise UntrustedRedirect("expired")
            raise RedirectBack(with_query(record["redirect_uri"], {
                "error": "access_denied", "error_description": "the user refused",
                "state": record["state"]}))
        advanced = self.records.advance(sign_in.id, "consent", {"step": "patient",
                                                                "scope": " ".join(scope)})
        if advanced is None:
            raise UntrustedRedirect("expired")
        return _sign_in(advanced, sign_in.client_name)

    def patients(self, sign_in: SignIn) -> list[str]:
        """The patients the citizen may choose: their own, then their family members'."""
        account = self.accounts.get(sign_in.account or "") or {}
        if account.get("status") != "active" or not account.get("patient"):
            raise UntrustedRedirect("expired")
        return list(dict.fromkeys([account["patient"], *account.get("family", [])]))

    def choose(self, sign_in: SignIn, patient: str) -> str:
        """Finish the sign-in with the chosen patient; the redirect back with code and state."""
        self._at(sign_in, "patient")
        if patient not in self.patients(sign_in):
            raise UntrustedRedirect("bad_patient")
        record = self.records.finish_request(sign_in.id, "patient")
        if record is None:
            raise UntrustedRedirect("expired")
        code = secrets.token_urlsafe(32)
        self.records.add_code({
            "_id": digest(code), "client": record["client"],
            "redirect_uri": record["redirect_uri"], "scope": record["scope"],
            "patient": patient, "account": record["account"],
            "challenge": record["challenge"], "sid": "app-" + secrets.token_urlsafe(12),
            "expires": self.clock() + CODE_TTL})
        return with_query(record["redirect_uri"], {"code": code, "state": record["state"]})

    @staticmethod
    def _at(sign_in: SignIn, step: str) -> None:
        if sign_in.step != step:
            raise UntrustedRedirect("wrong_step", 409)


def _aware(moment: datetime, like: datetime) -> datetime:
    """A stored datetime (naive UTC from the driver) comparable with the clock's."""
    return moment.replace(tzinfo=like.tzinfo) if moment.tzinfo is None else moment


def language(choice: str | None, accepted: Callable[[list[str]], str | None]) -> str:
    """The page language: an explicit choice, else the browser's Accept-Language, else vi."""
    if choice in LANGUAGES:
        return str(choice)
    return accepted(list(LANGUAGES)) or "vi"

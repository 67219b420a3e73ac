"""The authentication service of a running server: everything auth/ needs, wired once."""

from __future__ import annotations

import logging
import secrets
import threading
from datetime import timedelta
from pathlib import Path
from typing import Any

from fhir_server.auth.accounts import Accounts
from fhir_server.auth.audit import AuditSink
from fhir_server.auth.backoff import LoginBackoff
from fhir_server.auth.clients import Clients
from fhir_server.auth.otp import OtpCodes
from fhir_server.auth.principal import CITIZEN
from fhir_server.auth.registrations import PendingRegistrations
from fhir_server.auth.secrets_files import write_once
from fhir_server.auth.sessions import Sessions
from fhir_server.auth.throttle import Throttle
from fhir_server.auth.tokens import TokenSigner, load_or_create_key
from fhir_server.notify.gateways import SmsGateway, gateway_from_settings
from fhir_server.notify.outbox import Outbox
from fhir_server.settings import Settings
from fhir_server.storage.auth_stores import AuthStores

log = logging.getLogger(__name__)


def _secret(directory: Path, name: str) -> bytes:
    return write_once(directory / name, secrets.token_bytes(32))


def sms_gateway(settings: Settings) -> SmsGateway:
    """The gateway named by FHIR_SMS_GATEWAY: file:PATH, console or http:URL."""
    kind, _, target = settings.sms_gateway.partition(":")
    return gateway_from_settings(kind, target, settings.sms_api_key)


class AuthService:
    """Signer, sessions, accounts, OTP, throttling, outbox, backend clients and audit."""

    def __init__(self, stores: AuthStores, settings: Settings,
                 store_events: Any, gateway: SmsGateway | None = None) -> None:
        key_dir = Path(settings.auth_key_dir)
        clock = settings.clock
        self.settings = settings
        self.stores = stores
        self.signer = TokenSigner(load_or_create_key(key_dir), settings.base_url,
                                  lambda: clock().timestamp())
        self.sessions = Sessions(stores.sessions, self.signer, clock, settings.base_url)
        self.throttle = Throttle(stores.counters, clock)
        self.gateway = gateway or sms_gateway(settings)
        self.outbox = Outbox(stores.outbox, self.gateway, clock,
                             timedelta(seconds=settings.sms_lease_seconds))
        self.otp = OtpCodes(stores.otps, _secret(key_dir, "otp-secret"), clock)
        self.accounts = Accounts(stores.accounts,
                                 PendingRegistrations(stores.registrations, clock),
                                 LoginBackoff(stores.login_tries, clock),
                                 self.otp, self.throttle, self.outbox, clock)
        self.clients = Clients(stores.clients, [f"{settings.base_url}/token",  # SMART apps'
                               f"{settings.base_url}/auth/token"], clock)  # and the older URL
        self.audit = AuditSink(store_events, clock, spool_dir=settings.audit_spool_dir)
        self._stopping = threading.Event()
        self._retrier: threading.Thread | None = None

    def start(self) -> None:
        """Start the background SMS retry loop (once; the app factory calls this)."""
        interval = self.settings.sms_retry_seconds
        if interval > 0 and self._retrier is None:
            self._retrier = threading.Thread(target=self._retry_sms, args=(interval,),
                                             name="sms-outbox", daemon=True)
            self._retrier.start()

    def stop(self) -> None:
        """Stop the SMS retry loop (it finishes the round it is in)."""
        self._stopping.set()

    def _retry_sms(self, interval: int) -> None:
        """Deliver due outbox messages until stopped (a daemon thread per worker)."""
        while not self._stopping.wait(interval):
            try:
                self.outbox.deliver_pending()
            except Exception:  # noqa: BLE001 - the next round tries again
                log.exception("SMS outbox delivery round failed")

    def token_for(self, scope: str, ttl_seconds: int, subject: str = "operator") -> str:
        """A system access token (the `fhir-server token` command)."""
        return self.signer.issue({"sub": subject, "kind": "system", "scope": scope},
                                 ttl_seconds)

    def smart_configuration(self) -> dict[str, Any]:
        """/.well-known/smart-configuration (SMART App Launch 2.x conformance.html): what
        works — standalone patient launch (authorization code + PKCE S256, public and
        client_secret_basic apps) and Backend Services (private_key_jwt)."""
        base = self.settings.base_url
        return {  # no `issuer`: it is for sso-openid-connect, which this server does not offer
            "jwks_uri": f"{base}/auth/jwks.json",
            "authorization_endpoint": f"{base}/authorize",
            "token_endpoint": f"{base}/token",
            "token_endpoint_auth_methods_supported": ["client_secret_basic", "private_key_jwt"],
            "token_endpoint_auth_signing_alg_values_supported": ["ES256", "ES384", "RS384"],
            "grant_types_supported": ["authorization_code", "client_credentials",
                                      "refresh_token"],
            "revocation_endpoint": f"{base}/auth/logout",
            "scopes_supported": ["launch/patient", "patient/*.read", "patient/*.write",
                                 "patient/*.rs", "patient/*.cruds", "offline_access",
                                 "online_access", "system/*.read", "system/*.write",
                                 "system/*.*"],
            "response_types_supported": ["code"],
            "capabilities": ["launch-standalone", "client-public",
                             "client-confidential-symmetric", "client-confidential-asymmetric",
                             "context-standalone-patient", "permission-patient",
                             "permission-v1", "permission-v2", "permission-offline",
                             "permission-online", "health-cards"],
            "code_challenge_methods_supported": ["S256"],
        }

    def is_citizen(self, account: dict[str, Any]) -> bool:
        """True for citizen accounts."""
        return account.get("kind") == CITIZEN

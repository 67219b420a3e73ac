"""One-time codes sent by SMS: 6 digits, stored as an HMAC, 5 minutes, a few attempts, one use."""

from __future__ import annotations

import hashlib
import hmac
import secrets
from collections.abc import Callable
from datetime import datetime, timedelta

from fhir_server.errors import InvalidRequest
from fhir_server.storage.auth_records import OtpRecords

LIFETIME = timedelta(minutes=5)
MAX_ATTEMPTS = 5


class OtpCodes:
    """Issues and checks codes per (purpose, key); a new code replaces the previous one.

    The key is the phone (password reset) or a pending registration's id (registration).
    """

    def __init__(self, records: OtpRecords, secret: bytes, clock: Callable[[], datetime]) -> None:
        self.records = records
        self.secret = secret
        self.clock = clock

    def _digest(self, purpose: str, phone: str, code: str) -> str:
        return hmac.new(self.secret, f"{purpose}|{phone}|{code}".encode(),
                        hashlib.sha256).hexdigest()

    def issue(self, purpose: str, phone: str) -> str:
        """A fresh code for this purpose and phone (only its HMAC is stored)."""
        code = f"{secrets.randbelow(1_000_000):06d}"
        self.records.put(f"{purpose}:{phone}", self._digest(purpose, phone, code),
                         self.clock() + LIFETIME)
        return code

    def discard(self, purpose: str, phone: str) -> None:
        """No code for this purpose and key any more."""
        self.records.delete(f"{purpose}:{phone}")

    def consume(self, purpose: str, phone: str, code: str) -> None:
        """Accept the code once; wrong, expired, exhausted or reused codes give 400."""
        key = f"{purpose}:{phone}"
        if not (isinstance(code, str) and len(code) == 6 and code.isdigit()):
            raise InvalidRequest.at("The code must be 6 digits", "code", "value")
        record = self.records.take_attempt(key, MAX_ATTEMPTS)
        if record is None:
            raise InvalidRequest.at("No valid code for this phone: request a new one", "code",
                                    "invalid")
        if record.expires.timestamp() < self.clock().timestamp():
            self.records.delete(key)
            raise InvalidRequest.at("The code has expired: request a new one", "code",
                                    "invalid")
        if not hmac.compare_digest(record.digest, self._digest(purpose, phone, code)):
            left = MAX_ATTEMPTS - record.attempts - 1
            raise InvalidRequest.at(f"Wrong code ({left} attempts left)", "code", "invalid")
        if not self.records.use(key, record.digest):
            raise InvalidRequest.at("The code was already used", "code", "invalid")

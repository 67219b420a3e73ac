"""One-time codes sent by SMS: 6 digits, stored as an HMAC, 5 minutes, a few attempts, one use."""

from __future__ import annotations

import hashlib
import hmac
import secrets
from collections.abc import Callable
from datetime import datetime, timedelta

from pymongo.database import Database

from fhir_server.errors import InvalidRequest

OTPS = "_otps"
LIFETIME = timedelta(minutes=5)
MAX_ATTEMPTS = 5


class OtpCodes:
    """Issues and checks codes per (purpose, key); a new code replaces the previous one.

    The key is the phone (password reset) or a pending registration's id (registration).
    """

    def __init__(self, db: Database, secret: bytes, clock: Callable[[], datetime]) -> None:
        self.collection = db[OTPS]
        self.secret = secret
        self.clock = clock
        self.collection.create_index("expires", expireAfterSeconds=3600)  # leftovers go

    def _digest(self, purpose: str, phone: str, code: str) -> str:
        return hmac.new(self.secret, f"{purpose}|{phone}|{code}".encode(),
                        hashlib.sha256).hexdigest()

    def issue(self, purpose: str, phone: str) -> str:
        """A fresh code for this purpose and phone (only its HMAC is stored)."""
        code = f"{secrets.randbelow(1_000_000):06d}"
        self.collection.replace_one(
            {"_id": f"{purpose}:{phone}"},
            {"hash": self._digest(purpose, phone, code), "expires": self.clock() + LIFETIME,
             "attempts": 0}, upsert=True)
        return code

    def discard(self, purpose: str, phone: str) -> None:
        """No code for this purpose and key any more."""
        self.collection.delete_one({"_id": f"{purpose}:{phone}"})

    def consume(self, purpose: str, phone: str, code: str) -> None:
        """Accept the code once; wrong, expired, exhausted or reused codes give 400."""
        key = f"{purpose}:{phone}"
        if not (isinstance(code, str) and len(code) == 6 and code.isdigit()):
            raise InvalidRequest.at("The code must be 6 digits", "code", "value")
        record = self.collection.find_one_and_update(
            {"_id": key, "attempts": {"$lt": MAX_ATTEMPTS}}, {"$inc": {"attempts": 1}})
        if record is None:
            raise InvalidRequest.at("No valid code for this phone: request a new one", "code",
                                    "invalid")
        if record["expires"].timestamp() < self.clock().timestamp():
            self.collection.delete_one({"_id": key})
            raise InvalidRequest.at("The code has expired: request a new one", "code",
                                    "invalid")
        if not hmac.compare_digest(record["hash"], self._digest(purpose, phone, code)):
            left = MAX_ATTEMPTS - int(record["attempts"]) - 1
            raise InvalidRequest.at(f"Wrong code ({left} attempts left)", "code", "invalid")
        if self.collection.delete_one({"_id": key, "hash": record["hash"]}).deleted_count != 1:
            raise InvalidRequest.at("The code was already used", "code", "invalid")

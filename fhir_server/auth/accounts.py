"""Citizen and staff accounts: register with SMS OTP, log in (phone or BHXH), reset, family."""

from __future__ import annotations

import re
import uuid
from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any

from pymongo import ASCENDING
from pymongo.database import Database
from pymongo.errors import DuplicateKeyError

from fhir_server.auth.otp import OtpCodes
from fhir_server.auth.passwords import check_strength, hash_password, verify_password
from fhir_server.auth.phones import normalise_phone
from fhir_server.auth.principal import CITIZEN, STAFF
from fhir_server.auth.throttle import Throttle
from fhir_server.errors import Conflict, InvalidRequest, TooManyRequests, Unauthorized
from fhir_server.notify.outbox import Outbox

ACCOUNTS = "_accounts"
BHXH = re.compile(r"\d{10}")
LOCK_AFTER = 5
LOCK_FOR = timedelta(minutes=15)


def _text(body: dict[str, Any], name: str, limit: int = 200) -> str:
    value = body.get(name)
    if not isinstance(value, str) or not value.strip():
        raise InvalidRequest.at(f"'{name}' is required", name, "required")
    if len(value) > limit:
        raise InvalidRequest.at(f"'{name}' is too long", name, "value")
    return value.strip()


class Accounts:
    """Account state lives in `_accounts`; every failure leaves it unchanged."""

    def __init__(self, db: Database, otp: OtpCodes, throttle: Throttle, outbox: Outbox,
                 clock: Callable[[], datetime]) -> None:
        self.collection = db[ACCOUNTS]
        self.otp, self.throttle, self.outbox, self.clock = otp, throttle, outbox, clock
        self.collection.create_index([("phone", ASCENDING)], unique=True)
        self.collection.create_index([("bhxh", ASCENDING)], unique=True, sparse=True)

    def get(self, account_id: str) -> dict[str, Any] | None:
        """An account by id."""
        return self.collection.find_one({"_id": account_id})

    def _send_code(self, purpose: str, phone: str, address: str | None) -> None:
        self.throttle.hit(f"otp-ip:{address}", 20, 3600, "code requests from this address")
        self.throttle.hit(f"otp-gap:{purpose}:{phone}", 1, 60, "code requests for this phone")
        self.throttle.hit(f"otp-phone:{phone}", 5, 3600, "code requests for this phone")
        code = self.otp.issue(purpose, phone)
        self.outbox.enqueue(phone, f"Ma xac thuc So suc khoe dien tu: {code} (hieu luc 5 phut)")

    def start_registration(self, body: dict[str, Any], address: str | None) -> str:
        """Validate, keep a pending account and text a code; returns the E.164 phone."""
        name = _text(body, "full_name")
        phone = normalise_phone(_text(body, "phone", 32))
        password = _text(body, "password", 128)
        check_strength(password, phone)
        bhxh = body.get("bhxh")
        if bhxh is not None and not (isinstance(bhxh, str) and BHXH.fullmatch(bhxh)):
            raise InvalidRequest.at("bhxh must be the 10-digit social insurance code", "bhxh",
                                    "value")
        existing = self.collection.find_one({"phone": phone})
        if existing is not None and existing["status"] != "pending":
            raise Conflict.at("An account with this phone number exists already", "phone")
        if bhxh and self.collection.find_one({"bhxh": bhxh, "phone": {"$ne": phone}}):
            raise Conflict.at("This BHXH code belongs to another account", "bhxh")
        self._send_code("register", phone, address)
        pending = {"phone": phone, "name": name, "password": hash_password(password),
                   "status": "pending", "kind": CITIZEN, "created": self.clock(),
                   "details": {k: body[k] for k in ("birthDate", "gender") if k in body}}
        if bhxh:
            pending["bhxh"] = bhxh
        self.collection.update_one({"phone": phone},
                                   {"$set": pending, "$setOnInsert": {"_id": str(uuid.uuid4())}},
                                   upsert=True)
        return phone

    def confirm_registration(self, body: dict[str, Any],
                             create_patient: Callable[[dict[str, Any]], str]) -> dict[str, Any]:
        """Check the code, create and link the Patient, activate the account."""
        phone = normalise_phone(_text(body, "phone", 32))
        account = self.collection.find_one({"phone": phone, "status": "pending"})
        if account is None:
            raise InvalidRequest.at("No pending registration for this phone", "phone",
                                    "not-found")
        self.otp.consume("register", phone, str(body.get("code", "")))
        patient_id = create_patient(account)
        self.collection.update_one({"_id": account["_id"]}, {"$set": {
            "status": "active", "patient": patient_id, "family": []}})
        return self.collection.find_one({"_id": account["_id"]}) or {}

    def _candidates(self, body: dict[str, Any]) -> list[dict[str, Any]]:
        found: list[dict[str, Any]] = []
        username = str(body.get("username") or body.get("phone") or body.get("bhxh") or "")
        if not username or len(username) > 32:
            raise InvalidRequest.at("username (phone or BHXH code) is required", "username",
                                    "required")
        if "bhxh" not in body:
            try:
                account = self.collection.find_one({"phone": normalise_phone(username)})
                found += [account] if account else []
            except InvalidRequest:
                pass
        if BHXH.fullmatch(username):
            account = self.collection.find_one({"bhxh": username})
            found += [account] if account and account not in found else []
        return found

    def login(self, body: dict[str, Any], address: str | None) -> dict[str, Any]:
        """The account whose phone or BHXH code and password match (401 otherwise)."""
        self.throttle.hit(f"login-ip:{address}", 60, 900, "login attempts from this address")
        password = str(body.get("password") or "")
        candidates = [a for a in self._candidates(body) if a.get("status") == "active"]
        now = self.clock()
        for account in candidates:
            locked = account.get("locked_until")
            if locked is not None and locked.timestamp() > now.timestamp():
                error = TooManyRequests("The account is locked after repeated failures; "
                                        "try later or reset the password")
                error.headers = {"Retry-After": str(int(locked.timestamp() - now.timestamp()))}
                raise error
        for account in candidates:
            if verify_password(account.get("password"), password):
                self.collection.update_one({"_id": account["_id"]}, {
                    "$set": {"failed": 0, "last_login": now}, "$unset": {"locked_until": ""}})
                return account
        if not candidates:
            verify_password(None, password)  # same work as a real check
        for account in candidates:
            failed = int(account.get("failed", 0)) + 1
            update: dict[str, Any] = {"failed": failed}
            if failed >= LOCK_AFTER:
                update = {"failed": 0, "locked_until": now + LOCK_FOR}
            self.collection.update_one({"_id": account["_id"]}, {"$set": update})
        raise Unauthorized("Wrong phone/BHXH code or password")

    def start_reset(self, body: dict[str, Any], address: str | None) -> None:
        """Text a reset code when the phone has an active account (same answer otherwise)."""
        phone = normalise_phone(_text(body, "phone", 32))
        if self.collection.find_one({"phone": phone, "status": "active"}) is not None:
            self._send_code("reset", phone, address)
        else:
            self.throttle.hit(f"otp-ip:{address}", 20, 3600, "code requests from this address")

    def finish_reset(self, body: dict[str, Any]) -> dict[str, Any]:
        """Check the code and set the new password; returns the account."""
        phone = normalise_phone(_text(body, "phone", 32))
        password = _text(body, "new_password", 128)
        check_strength(password, phone)
        account = self.collection.find_one({"phone": phone, "status": "active"})
        if account is None:
            raise InvalidRequest.at("No valid code for this phone: request a new one", "code",
                                    "invalid")
        self.otp.consume("reset", phone, str(body.get("code", "")))
        self.collection.update_one({"_id": account["_id"]}, {
            "$set": {"password": hash_password(password), "failed": 0},
            "$unset": {"locked_until": ""}})
        return account

    def add_family_member(self, account_id: str, patient_id: str) -> dict[str, Any]:
        """Link a family member's Patient to the account."""
        self.collection.update_one({"_id": account_id}, {"$addToSet": {"family": patient_id}})
        return self.get(account_id) or {}

    def create_citizen(self, phone: str, name: str, password: str, patient: str,
                       family: list[str]) -> dict[str, Any]:
        """An active citizen account linked to an existing Patient (demo data, migrations)."""
        phone = normalise_phone(phone)
        account = {"_id": str(uuid.uuid4()), "phone": phone, "name": name, "kind": CITIZEN,
                   "password": hash_password(password), "status": "active", "patient": patient,
                   "family": family, "created": self.clock()}
        try:
            self.collection.insert_one(account)
        except DuplicateKeyError:
            raise Conflict("An account with this phone number exists already") from None
        return account

    def create_staff(self, phone: str, name: str, password: str, roles: list[str],
                     practitioner: str | None = None) -> dict[str, Any]:
        """An active staff account (practitioner, analyst or admin)."""
        phone = normalise_phone(phone)
        check_strength(password, phone)
        account = {"_id": str(uuid.uuid4()), "phone": phone, "name": name, "kind": STAFF,
                   "roles": roles, "password": hash_password(password), "status": "active",
                   "created": self.clock(), "practitioner": practitioner}
        try:
            self.collection.insert_one(account)
        except DuplicateKeyError:
            raise Conflict("An account with this phone number exists already") from None
        return account

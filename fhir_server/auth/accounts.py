"""Citizen and staff accounts: register with SMS OTP, log in (phone or BHXH), reset, family."""

from __future__ import annotations

import re
import uuid
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime
from typing import Any

from fhir_server.auth.backoff import LoginBackoff
from fhir_server.auth.otp import OtpCodes
from fhir_server.auth.passwords import check_strength, hash_password, verify_password
from fhir_server.auth.phones import normalise_phone
from fhir_server.auth.principal import CITIZEN, STAFF
from fhir_server.auth.registrations import PendingRegistrations
from fhir_server.auth.throttle import Throttle
from fhir_server.errors import Conflict, InvalidRequest, Unauthorized
from fhir_server.notify.outbox import Outbox
from fhir_server.storage.auth_records import ACTIVE, PENDING, Account, AccountRecords

BHXH = re.compile(r"\d{10}")
REGISTRATION_FIELDS = frozenset({"full_name", "phone", "password", "birthDate", "gender", "cccd",
                                 "bhxh", "bhyt"})
TAKEN_TEXT = ("So suc khoe dien tu: so dien thoai nay da co tai khoan. Neu ban quen mat khau, "
              "hay dung chuc nang Quen mat khau.")


def known_fields(body: dict[str, Any], allowed: frozenset[str]) -> None:
    """400 naming the first field the request schema does not have (never ignored)."""
    for name in body:
        if name not in allowed:
            raise InvalidRequest.at(f"Unknown field '{str(name)[:40]}': the fields are "
                                    + ", ".join(sorted(allowed)), str(name)[:40], "structure")


def _text(body: dict[str, Any], name: str, limit: int = 200) -> str:
    value = body.get(name)
    if not isinstance(value, str) or not value.strip():
        raise InvalidRequest.at(f"'{name}' is required", name, "required")
    if len(value) > limit:
        raise InvalidRequest.at(f"'{name}' is too long", name, "value")
    return value.strip()


class Accounts:
    """Account state lives in the account records; every failure leaves it unchanged."""

    def __init__(self, records: AccountRecords, registrations: PendingRegistrations,
                 backoff: LoginBackoff, otp: OtpCodes, throttle: Throttle, outbox: Outbox,
                 clock: Callable[[], datetime]) -> None:
        self.records = records
        self.registrations, self.backoff = registrations, backoff
        self.otp, self.throttle, self.outbox, self.clock = otp, throttle, outbox, clock
        self._sender = ThreadPoolExecutor(max_workers=1, thread_name_prefix="sms-reset")
        # Patient ids holding a BHXH code (wired by the app to a search as the server)
        self.patients_by_bhxh: Callable[[str], list[str]] = lambda _code: []

    def is_linked(self, patient_id: str) -> bool:
        """True when an account has this Patient as its own record."""
        return self.records.find_by_patient(patient_id) is not None

    def get(self, account_id: str) -> Account | None:
        """An account by id."""
        return self.records.get(account_id)

    def find_by_phone(self, phone: str) -> Account | None:
        """The account of a phone number (any spelling `normalise_phone` accepts), or None."""
        return self.records.find_by_phone(normalise_phone(phone))

    def _throttle_codes(self, purpose: str, phone: str, address: str | None) -> None:
        self.throttle.hit(f"otp-ip:{address}", 20, 3600, "code requests from this address")
        self.throttle.hit(f"otp-gap:{purpose}:{phone}", 1, 60, "code requests for this phone")
        self.throttle.hit(f"otp-phone:{phone}", 5, 3600, "code requests for this phone")

    @staticmethod
    def _text_for(code: str) -> str:
        return f"Ma xac thuc So suc khoe dien tu: {code} (hieu luc 5 phut)"

    def start_registration(self, body: dict[str, Any], address: str | None,
                           check: Callable[[dict[str, Any]], None] | None = None
                           ) -> tuple[str, str]:
        """Validate (`check`: the would-be Patient's rules), keep a pending registration and
        text a code; returns (phone, its id)."""
        known_fields(body, REGISTRATION_FIELDS)
        name = _text(body, "full_name")
        phone = normalise_phone(_text(body, "phone", 32))
        password = _text(body, "password", 128)
        check_strength(password, phone)
        bhxh = body.get("bhxh")
        if bhxh is not None and not (isinstance(bhxh, str) and BHXH.fullmatch(bhxh)):
            raise InvalidRequest.at("bhxh must be the 10-digit social insurance code", "bhxh",
                                    "value")
        pending = {"phone": phone, "name": name, "created": self.clock(),
                   "details": {k: body[k] for k in ("birthDate", "gender") if k in body}}
        if bhxh:
            pending["bhxh"] = bhxh
        for key in ("cccd", "bhyt"):  # their rules are checked on the would-be Patient
            if body.get(key) is not None:
                pending[key] = _text(body, key, 32)
        if check is not None:
            check(pending)
        taken = self.records.phone_taken(phone)  # answered alike: no account enumeration
        self._throttle_codes("register", phone, address)
        pending["password"] = hash_password(password)
        registration = self.registrations.add(pending)
        code = self.otp.issue("register", registration)  # issued either way: same work
        # the phone's owner learns by SMS that it has an account; the caller sees the same 202
        self.outbox.enqueue(phone, TAKEN_TEXT if taken else self._text_for(code))
        return phone, registration

    def confirm_registration(self, body: dict[str, Any],
                             create_patient: Callable[[dict[str, Any]], str]) -> dict[str, Any]:
        """Check the registration's own code, create and link the Patient, activate."""
        pending = self.registrations.find(body.get("registration"))
        phone = pending["phone"]
        if body.get("phone") is not None and normalise_phone(_text(body, "phone", 32)) != phone:
            raise InvalidRequest.at("This is not the phone of the registration", "phone",
                                    "value")
        self.otp.consume("register", pending["_id"], str(body.get("code", "")))
        self.records.delete_pending_by_phone(phone)  # earlier scheme
        kept = ("phone", "name", "password", "created", "details", "bhxh", "cccd", "bhyt")
        account: dict[str, Any] = {k: pending[k] for k in kept if k in pending}
        account.update({"_id": str(uuid.uuid4()), "kind": CITIZEN, "status": PENDING})
        if not self.records.insert(account):
            raise Conflict("An account with this phone number or BHXH code exists already")
        try:
            patient_id = create_patient(account)
        except BaseException:
            self.records.delete(account["_id"])
            raise
        activated = self.records.activate(account["_id"], patient_id)
        self.registrations.close(phone)
        return activated or {}

    def _candidates(self, body: dict[str, Any]) -> tuple[list[dict[str, Any]], str]:
        """Active accounts the username may name, and the username's normal form."""
        found: list[dict[str, Any]] = []
        username = str(body.get("username") or body.get("phone") or body.get("bhxh") or "")
        if not username or len(username) > 32:
            raise InvalidRequest.at("username (phone or BHXH code) is required", "username",
                                    "required")
        key = username
        if "bhxh" not in body:
            try:
                key = normalise_phone(username)
                found += [a for a in [self.records.find_by_phone(key)] if a]
            except InvalidRequest:
                pass
        if BHXH.fullmatch(username):
            account = self.records.find_by_bhxh(username)
            if account is None:  # a BHXH code the site recorded on the account's Patient
                owners = [self.records.find_by_patient(p) for p in self.patients_by_bhxh(username)]
                account = next((a for a in owners if a), None)
            found += [account] if account and account not in found else []
        return [a for a in found if a.get("status") == ACTIVE], key

    def login(self, body: dict[str, Any], address: str | None) -> dict[str, Any]:
        """The account whose username and password match: 401 otherwise, 429 while waiting.

        Known and unknown usernames take the same path: a try is claimed per (account or
        username, address) before one argon2 verify (against a dummy hash when unknown).
        """
        self.throttle.hit(f"login-ip:{address}", 60, 900, "login attempts from this address")
        password = str(body.get("password") or "")
        candidates, username = self._candidates(body)
        subjects = [f"acct:{a['_id']}" for a in candidates] or [f"user:{username}"]
        for subject in subjects:
            self.backoff.claim(subject, address)
        if not candidates:
            verify_password(None, password)  # same work as a real check
        for account in candidates:
            if verify_password(account.get("password"), password):
                self.backoff.release(f"acct:{account['_id']}", address)
                self.records.record_login(account["_id"], self.clock())
                return account
        raise Unauthorized("Wrong phone/BHXH code or password")

    def start_reset(self, body: dict[str, Any], address: str | None) -> None:
        """Text a reset code when the phone has an active account; the same answer otherwise.

        Both paths are throttled alike and the text leaves from a background thread, so
        neither the status nor the gateway's latency tells whether the account exists.
        """
        phone = normalise_phone(_text(body, "phone", 32))
        active = self.records.find_active_by_phone(phone) is not None
        self._throttle_codes("reset", phone, address)
        if not active:
            self.otp.discard("reset", phone)  # one write, like issuing a code
            return
        self.outbox.enqueue(phone, self._text_for(self.otp.issue("reset", phone)),
                            deliver_now=False)
        self._sender.submit(self.outbox.deliver_pending)

    def flush_sms(self, timeout: float = 10.0) -> None:
        """Wait until the texts handed to the background sender have been tried."""
        self._sender.submit(lambda: None).result(timeout)

    def finish_reset(self, body: dict[str, Any]) -> dict[str, Any]:
        """Check the code and set the new password; returns the account."""
        phone = normalise_phone(_text(body, "phone", 32))
        password = _text(body, "new_password", 128)
        check_strength(password, phone)
        account = self.records.find_active_by_phone(phone)
        if account is None:
            raise InvalidRequest.at("No valid code for this phone: request a new one", "code",
                                    "invalid")
        self.otp.consume("reset", phone, str(body.get("code", "")))
        self.records.set_password(account["_id"], hash_password(password))
        self.backoff.forget(f"acct:{account['_id']}")
        return account

    def add_family_member(self, account_id: str, patient_id: str) -> dict[str, Any]:
        """Link a family member's Patient to the account."""
        return self.records.add_family(account_id, patient_id) or {}

    def remove_family_member(self, account_id: str, patient_id: str) -> dict[str, Any]:
        """Unlink a family member's Patient from the account."""
        return self.records.remove_family(account_id, patient_id) or {}

    def create_citizen(self, phone: str, name: str, password: str, patient: str,
                       family: list[str]) -> dict[str, Any]:
        """An active citizen account linked to an existing Patient (demo data, migrations)."""
        phone = normalise_phone(phone)
        account = {"_id": str(uuid.uuid4()), "phone": phone, "name": name, "kind": CITIZEN,
                   "password": hash_password(password), "status": ACTIVE, "patient": patient,
                   "family": family, "created": self.clock()}
        if not self.records.insert(account):
            raise Conflict("An account with this phone number exists already")
        return account

    def create_staff(self, phone: str, name: str, password: str, roles: list[str],
                     practitioner: str | None = None) -> dict[str, Any]:
        """An active staff account (practitioner, analyst or admin)."""
        phone = normalise_phone(phone)
        check_strength(password, phone)
        account = {"_id": str(uuid.uuid4()), "phone": phone, "name": name, "kind": STAFF,
                   "roles": roles, "password": hash_password(password), "status": ACTIVE,
                   "created": self.clock(), "practitioner": practitioner}
        if not self.records.insert(account):
            raise Conflict("An account with this phone number exists already")
        return account

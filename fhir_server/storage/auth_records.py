"""Accounts (`_accounts`), pending registrations (`_registrations`) and one-time codes
(`_otps`).

The unique indexes on an account's phone and BHXH code are what makes two parallel
registrations of the same phone end with one account: `insert` answers False for the loser.
One-time codes are used up by conditional single-document operations (an attempt is an `$inc`
guarded by the attempt limit; the single use is a delete guarded by the code's hash).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from pymongo import ASCENDING, ReturnDocument
from pymongo.database import Database
from pymongo.errors import DuplicateKeyError

ACCOUNTS = "_accounts"
REGISTRATIONS = "_registrations"
OTPS = "_otps"
PENDING = "pending"  # the status of an account whose Patient is being created
ACTIVE = "active"

Account = dict[str, Any]  # an account as stored: `_id`, phone, kind, status, password hash...


class AccountRecords:
    """Account documents keyed by id, unique by phone and (when given) by BHXH code."""

    def __init__(self, db: Database[Any]) -> None:
        self.collection = db[ACCOUNTS]

    def ensure_indexes(self) -> None:
        """The unique index on phone and the unique sparse index on BHXH code."""
        self.collection.create_index([("phone", ASCENDING)], unique=True)
        self.collection.create_index([("bhxh", ASCENDING)], unique=True, sparse=True)
        self.collection.create_index([("patient", ASCENDING)], sparse=True)

    def get(self, account_id: str) -> Account | None:
        """An account by id."""
        return self.collection.find_one({"_id": account_id})

    def find_by_phone(self, phone: str) -> Account | None:
        """The account of a phone (whatever its status), or None."""
        return self.collection.find_one({"phone": phone})

    def find_active_by_phone(self, phone: str) -> Account | None:
        """The active account of a phone, or None."""
        return self.collection.find_one({"phone": phone, "status": ACTIVE})

    def find_by_patient(self, patient_id: str) -> Account | None:
        """The account whose own record is this Patient, or None."""
        return self.collection.find_one({"patient": patient_id})

    def find_by_bhxh(self, bhxh: str) -> Account | None:
        """The account of a BHXH code (whatever its status), or None."""
        return self.collection.find_one({"bhxh": bhxh})

    def phone_taken(self, phone: str) -> bool:
        """True when an account past its creation holds this phone."""
        return self.collection.find_one({"phone": phone, "status": {"$ne": PENDING}}) is not None

    def bhxh_taken_by_other(self, bhxh: str, phone: str) -> bool:
        """True when an account of another phone holds this BHXH code."""
        return self.collection.find_one({"bhxh": bhxh, "phone": {"$ne": phone}}) is not None

    def insert(self, account: Account) -> bool:
        """Store a new account (its `_id` set by the caller); False when its id, phone or
        BHXH code is taken already."""
        try:
            self.collection.insert_one(account)
        except DuplicateKeyError:
            return False
        return True

    def delete(self, account_id: str) -> None:
        """Remove an account."""
        self.collection.delete_one({"_id": account_id})

    def delete_pending_by_phone(self, phone: str) -> None:
        """Remove the accounts of a phone still pending (left by an earlier scheme)."""
        self.collection.delete_many({"phone": phone, "status": PENDING})

    def activate(self, account_id: str, patient_id: str) -> Account | None:
        """Make an account active, linked to its Patient with no family yet; the account."""
        self.collection.update_one({"_id": account_id}, {"$set": {
            "status": ACTIVE, "patient": patient_id, "family": []}})
        return self.get(account_id)

    def record_login(self, account_id: str, at: datetime) -> None:
        """Remember the time of the last successful login."""
        self.collection.update_one({"_id": account_id}, {"$set": {"last_login": at}})

    def set_password(self, account_id: str, password_hash: str) -> None:
        """Replace the password hash (and forget any former lockout fields)."""
        self.collection.update_one({"_id": account_id}, {
            "$set": {"password": password_hash},
            "$unset": {"failed": "", "locked_until": ""}})

    def remove_family(self, account_id: str, patient_id: str) -> Account | None:
        """Unlink a family member's Patient; the account."""
        self.collection.update_one({"_id": account_id}, {"$pull": {"family": patient_id}})
        return self.get(account_id)

    def add_family(self, account_id: str, patient_id: str) -> Account | None:
        """Link one more family member's Patient (once); the account."""
        self.collection.update_one({"_id": account_id}, {"$addToSet": {"family": patient_id}})
        return self.get(account_id)


class RegistrationRecords:
    """Pending registrations keyed by their own id, expiring by a TTL index."""

    def __init__(self, db: Database[Any]) -> None:
        self.collection = db[REGISTRATIONS]

    def ensure_indexes(self) -> None:
        """The TTL index on `expires` and the index on phone."""
        self.collection.create_index("expires", expireAfterSeconds=0)
        self.collection.create_index([("phone", ASCENDING)])

    def insert(self, registration_id: str, pending: dict[str, Any], expires: datetime) -> None:
        """Keep a pending registration (`pending` holds its phone) until `expires`."""
        self.collection.insert_one({**pending, "_id": registration_id, "expires": expires})

    def find_live(self, registration_id: str, now: datetime) -> dict[str, Any] | None:
        """The registration with this id when it expires after `now`, or None."""
        return self.collection.find_one({"_id": registration_id, "expires": {"$gt": now}})

    def delete_for_phone(self, phone: str) -> None:
        """Remove every pending registration of a phone."""
        self.collection.delete_many({"phone": phone})


@dataclass(frozen=True)
class OtpRecord:
    """A stored one-time code: its HMAC, expiry and attempts used before this one."""

    digest: str
    expires: datetime
    attempts: int


class OtpRecords:
    """One code per key; leftovers go an hour after they expire (TTL index)."""

    def __init__(self, db: Database[Any]) -> None:
        self.collection = db[OTPS]

    def ensure_indexes(self) -> None:
        """The TTL index on `expires` (one hour past it)."""
        self.collection.create_index("expires", expireAfterSeconds=3600)

    def put(self, key: str, digest: str, expires: datetime) -> None:
        """Store a fresh code under `key` (no attempts yet), replacing any previous one."""
        self.collection.replace_one({"_id": key},
                                    {"hash": digest, "expires": expires, "attempts": 0},
                                    upsert=True)

    def delete(self, key: str) -> None:
        """Remove the code of `key`."""
        self.collection.delete_one({"_id": key})

    def take_attempt(self, key: str, limit: int) -> OtpRecord | None:
        """Count one attempt atomically while fewer than `limit` were made; the code with the
        attempts made before this one, or None (no code, or no attempt left)."""
        # the document after the change, less this attempt: SecantusDB's "before" documents
        # can be stale under concurrency, its "after" ones are exact
        doc = self.collection.find_one_and_update(
            {"_id": key, "attempts": {"$lt": limit}}, {"$inc": {"attempts": 1}},
            return_document=ReturnDocument.AFTER)
        if doc is None:
            return None
        return OtpRecord(doc["hash"], doc["expires"], int(doc["attempts"]) - 1)

    def use(self, key: str, digest: str) -> bool:
        """Remove the code when it is still this one; True for the one caller that did."""
        return self.collection.delete_one({"_id": key, "hash": digest}).deleted_count == 1

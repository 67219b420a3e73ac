"""SMART App Launch state: sign-ins in progress (`_authorize_requests`), authorization codes
(`_auth_codes`) and the refresh tokens of apps (`_app_refresh_tokens`).

Every step is one conditional single-document operation: a sign-in moves login → consent →
patient only from the step it is at, a code is spent by flipping `used` (so two parallel
exchanges give one token), a refresh token likewise. Codes and tokens are kept by the SHA-256
digest of their value only. Every record goes away by a TTL index on `expires`.
"""

from __future__ import annotations

from typing import Any

from pymongo import ReturnDocument
from pymongo.database import Database

from fhir_server.storage.app_client_records import AppClientRecords

REQUESTS = "_authorize_requests"
CODES = "_auth_codes"
APP_REFRESH = "_app_refresh_tokens"

Record = dict[str, Any]  # a stored launch record (its fields are named in smart_launch.py)


class LaunchRecords:
    """Sign-ins in progress, authorization codes and app refresh tokens."""

    def __init__(self, db: Database[Any]) -> None:
        self.requests = db[REQUESTS]
        self.codes = db[CODES]
        self.refresh = db[APP_REFRESH]

    def ensure_indexes(self) -> None:
        """The TTL indexes (`expires`) and the session index of refresh tokens."""
        for collection in (self.requests, self.codes, self.refresh):
            collection.create_index("expires", expireAfterSeconds=0)
        self.refresh.create_index("sid")

    # -- sign-ins in progress --------------------------------------------------------------
    def add_request(self, record: Record) -> None:
        """Keep a new sign-in (its `_id` is a fresh random id)."""
        self.requests.insert_one(record)

    def get_request(self, request_id: str) -> Record | None:
        """A sign-in by id, or None."""
        return self.requests.find_one({"_id": request_id})

    def advance(self, request_id: str, step: str, changes: dict[str, Any]) -> Record | None:
        """Apply changes to a sign-in still at `step`, atomically; it after, or None."""
        return self.requests.find_one_and_update({"_id": request_id, "step": step},
                                                 {"$set": changes},
                                                 return_document=ReturnDocument.AFTER)

    def finish_request(self, request_id: str, step: str) -> Record | None:
        """Remove a sign-in still at `step` (it ends); it, or None when another request won."""
        return self.requests.find_one_and_delete({"_id": request_id, "step": step})

    # -- authorization codes ---------------------------------------------------------------
    def add_code(self, record: Record) -> None:
        """Keep a new, unused code (its `_id` is the code's digest)."""
        self.codes.insert_one({**record, "used": False})

    def spend_code(self, digest: str) -> Record | None:
        """Mark an unused code used, atomically; it, or None (unknown or used)."""
        return self.codes.find_one_and_update({"_id": digest, "used": False},
                                              {"$set": {"used": True}},
                                              return_document=ReturnDocument.AFTER)

    def find_code(self, digest: str) -> Record | None:
        """A code used or not, or None."""
        return self.codes.find_one({"_id": digest})

    # -- app refresh tokens ----------------------------------------------------------------
    def add_refresh(self, record: Record) -> None:
        """Keep a new, unused refresh token (its `_id` is the token's digest)."""
        self.refresh.insert_one({**record, "used": False})

    def spend_refresh(self, digest: str) -> Record | None:
        """Mark an unused refresh token used, atomically; it, or None."""
        return self.refresh.find_one_and_update({"_id": digest, "used": False},
                                                {"$set": {"used": True}},
                                                return_document=ReturnDocument.AFTER)

    def find_refresh(self, digest: str) -> Record | None:
        """A refresh token used or not, or None."""
        return self.refresh.find_one({"_id": digest})

    def drop_session(self, session: str) -> None:
        """Remove every refresh token of a session (it was revoked)."""
        self.refresh.delete_many({"sid": session})


def open_launch_stores(db: Database[Any]) -> tuple[AppClientRecords, LaunchRecords]:
    """The app client and launch stores on `db`, with their indexes in place."""
    stores = AppClientRecords(db), LaunchRecords(db)
    for store in stores:
        store.ensure_indexes()
    return stores

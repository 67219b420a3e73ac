"""Sessions and backend clients: refresh tokens (`_refresh_tokens`), revoked sessions
(`_revoked_sessions`), registered clients (`_clients`) and used assertion ids (`_client_jti`).

A refresh token is spent by one conditional update (unused → used), so of two parallel
rotations exactly one succeeds. An assertion id is remembered by an insert under a unique `_id`,
so a replay fails even when the two requests arrive together. Every record with an expiry goes
away by a TTL index.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from pymongo import ReturnDocument
from pymongo.database import Database
from pymongo.errors import DuplicateKeyError

REFRESH = "_refresh_tokens"
REVOKED = "_revoked_sessions"
CLIENTS = "_clients"
USED_JTI = "_client_jti"


@dataclass(frozen=True)
class RefreshRecord:
    """A refresh token as stored (by its digest): its session and account."""

    digest: str
    session: str
    account: str
    used: bool


def _refresh(doc: dict[str, Any]) -> RefreshRecord:
    return RefreshRecord(doc["_id"], doc["sid"], doc["account"], bool(doc.get("used")))


class SessionRecords:
    """Refresh tokens by digest and revoked session ids, each with a TTL."""

    def __init__(self, db: Database[Any]) -> None:
        self.refresh = db[REFRESH]
        self.revoked = db[REVOKED]

    def ensure_indexes(self) -> None:
        """The TTL indexes of refresh tokens (`expires`) and revocations (`until`); the
        session and account lookups of logout, password reset and revocation."""
        self.refresh.create_index("expires", expireAfterSeconds=0)
        self.refresh.create_index("sid", name="sid")
        self.refresh.create_index("account", name="account")
        self.revoked.create_index("until", expireAfterSeconds=0)

    def add_refresh(self, digest: str, session: str, account: str, expires: datetime) -> None:
        """Store a new, unused refresh token of a session."""
        self.refresh.insert_one({"_id": digest, "sid": session, "account": account,
                                 "used": False, "expires": expires})

    def spend_refresh(self, digest: str) -> RefreshRecord | None:
        """Mark an unused refresh token used, atomically; it (now used), or None."""
        doc = self.refresh.find_one_and_update({"_id": digest, "used": False},
                                               {"$set": {"used": True}},
                                               return_document=ReturnDocument.AFTER)
        return None if doc is None else _refresh(doc)

    def find_refresh(self, digest: str) -> RefreshRecord | None:
        """A refresh token whether used or not, or None."""
        doc = self.refresh.find_one({"_id": digest})
        return None if doc is None else _refresh(doc)

    def sessions_of(self, account: str) -> list[str]:
        """The ids of the sessions an account holds refresh tokens for."""
        return [str(sid) for sid in self.refresh.distinct("sid", {"account": account})]

    def revoke(self, session: str, until: datetime) -> None:
        """Drop a session's refresh tokens and list it as revoked until `until`."""
        self.refresh.delete_many({"sid": session})
        self.revoked.replace_one({"_id": session}, {"until": until}, upsert=True)

    def revoked_sessions(self) -> frozenset[str]:
        """The ids of the sessions listed as revoked."""
        return frozenset(doc["_id"] for doc in self.revoked.find({}, {"_id": 1}))


@dataclass(frozen=True)
class ClientRecord:
    """A registered backend client: name, public JWKS and allowed scopes."""

    id: str
    name: str
    jwks: dict[str, Any]
    scope: str


class ClientRecords:
    """Backend clients by id, and the assertion ids they have used (until they expire)."""

    def __init__(self, db: Database[Any]) -> None:
        self.collection = db[CLIENTS]
        self.used = db[USED_JTI]

    def ensure_indexes(self) -> None:
        """The TTL index on used assertion ids."""
        self.used.create_index("expires", expireAfterSeconds=0)

    def insert(self, client: ClientRecord) -> bool:
        """Register a client; False when its id is taken already."""
        try:
            self.collection.insert_one({"_id": client.id, "name": client.name,
                                        "jwks": client.jwks, "scope": client.scope})
        except DuplicateKeyError:
            return False
        return True

    def get(self, client_id: str) -> ClientRecord | None:
        """A client by id, or None."""
        doc = self.collection.find_one({"_id": client_id})
        if doc is None:
            return None
        return ClientRecord(doc["_id"], str(doc.get("name", "")), doc["jwks"], doc["scope"])

    def all(self) -> list[ClientRecord]:
        """Every backend client, by id."""
        return [ClientRecord(d["_id"], str(d.get("name", "")), d["jwks"], d["scope"])
                for d in self.collection.find({}).sort("_id", 1)]

    def remove(self, client_id: str) -> bool:
        """Unregister a backend client; False when there was none."""
        return self.collection.delete_one({"_id": client_id}).deleted_count == 1

    def remember_assertion(self, key: str, expires: datetime) -> bool:
        """Record an assertion id until `expires`; False when it was recorded already."""
        try:
            self.used.insert_one({"_id": key, "expires": expires})
        except DuplicateKeyError:
            return False
        return True

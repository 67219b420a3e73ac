"""Counters shared by every worker: fixed-window event counts (`_throttle`) and login tries
per (subject, address) (`_login_backoff`).

Every change is one atomic single-document operation (an `$inc` on a counter created once
under its unique `_id`, or an update conditioned on the counter's current value), so parallel
requests in any number of processes count exactly. Documents carry an `expires` instant with a
TTL index, so idle counters go away.
"""

from __future__ import annotations

from contextlib import suppress
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from pymongo import ReturnDocument
from pymongo.database import Database
from pymongo.errors import DuplicateKeyError

THROTTLE = "_throttle"
BACKOFF = "_login_backoff"


class WindowCounters:
    """Event counts per key (the caller puts the window in the key)."""

    def __init__(self, db: Database[Any]) -> None:
        self.collection = db[THROTTLE]

    def ensure_indexes(self) -> None:
        """The TTL index on `expires`."""
        self.collection.create_index("expires", expireAfterSeconds=0)

    def count_hit(self, key: str, expires: datetime) -> int:
        """Count one event under `key` atomically (the first one sets its expiry); the count."""
        doc = self._increment(key)
        if doc is None:  # the first event of the window: create the counter, once
            with suppress(DuplicateKeyError):
                self.collection.insert_one({"_id": key, "n": 0, "expires": expires})
            doc = self._increment(key)
        return int((doc or {}).get("n", 1))

    def _increment(self, key: str) -> dict[str, Any] | None:
        # not an upserting find_one_and_update: SecantusDB answers None to some of the
        # parallel upserts that create a document, which would count those hits as the first
        return self.collection.find_one_and_update(
            {"_id": key}, {"$inc": {"n": 1}}, return_document=ReturnDocument.AFTER)


@dataclass(frozen=True)
class TryState:
    """The login tries of one (subject, address): tries used, stage, and waiting until."""

    tries: int
    stage: int
    until: datetime | None


class LoginTries:
    """Login tries per key `subject|address`; `claim_*` methods are conditional updates."""

    def __init__(self, db: Database[Any]) -> None:
        self.collection = db[BACKOFF]

    def ensure_indexes(self) -> None:
        """The TTL index on `expires` and the index on `subject`."""
        self.collection.create_index("expires", expireAfterSeconds=0)
        self.collection.create_index("subject")

    def ensure(self, key: str, subject: str, never: datetime) -> None:
        """Create the counter (no tries, stage 0, free since `never`) unless it exists."""
        with suppress(DuplicateKeyError):  # a parallel attempt created it
            self.collection.update_one({"_id": key}, {"$setOnInsert": {
                "subject": subject, "n": 0, "stage": 0, "until": never}}, upsert=True)

    def claim_free_try(self, key: str, now: datetime, below: int, expires: datetime) -> bool:
        """Take a try when not waiting and fewer than `below` tries are used; True if taken."""
        return self.collection.find_one_and_update(
            {"_id": key, "until": {"$lte": now}, "n": {"$lt": below}},
            {"$inc": {"n": 1}, "$set": {"expires": expires}},
            return_document=ReturnDocument.AFTER) is not None

    def claim_last_try(self, key: str, now: datetime, tries: int, stage: int,
                       until: datetime, expires: datetime) -> bool:
        """Take the try after `tries` at `stage`, starting a wait until `until` and the next
        stage (tries start again); True if this call took it."""
        return self.collection.update_one(
            {"_id": key, "until": {"$lte": now}, "n": tries, "stage": stage},
            {"$set": {"n": 0, "until": until, "expires": expires},
             "$inc": {"stage": 1}}).modified_count == 1

    def get(self, key: str) -> TryState | None:
        """The counter's state, or None."""
        doc = self.collection.find_one({"_id": key})
        if doc is None:
            return None
        return TryState(int(doc.get("n", 0)), int(doc.get("stage", 0)), doc.get("until"))

    def delete(self, key: str) -> None:
        """Forget one counter."""
        self.collection.delete_one({"_id": key})

    def delete_subject(self, subject: str) -> None:
        """Forget every counter of a subject (all addresses)."""
        self.collection.delete_many({"subject": subject})

"""The SMS outbox (`_outbox`): one document per message, found by status and next try.

A message is claimed for sending by one conditional update (still in the state, with the
attempt count, the claimer saw), so of several workers exactly one sends a given attempt. A claim
is a lease: it moves `next_try` to the lease's end, and a message still `sending` after that
(its worker died between the claim and `mark_sent`) is due again (issue 16 point 3d).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from bson import ObjectId
from pymongo import ASCENDING, ReturnDocument
from pymongo.database import Database
from pymongo.errors import BulkWriteError, DuplicateKeyError

OUTBOX = "_outbox"
DUPLICATE_KEY = 11000
PENDING, SENDING, SENT, FAILED = "pending", "sending", "sent", "failed"

MessageId = ObjectId


@dataclass(frozen=True)
class OutboxMessage:
    """A stored message: recipient, text, status and attempts made."""

    id: MessageId
    to: str
    text: str
    status: str
    attempts: int

    @property
    def pending(self) -> bool:
        """True while the message waits for a (next) try."""
        return self.status == PENDING


def _message(doc: dict[str, Any]) -> OutboxMessage:
    return OutboxMessage(doc["_id"], doc["to"], doc["text"], doc["status"],
                         int(doc["attempts"]))


class OutboxRecords:
    """Messages with their delivery state."""

    def __init__(self, db: Database[Any]) -> None:
        self.collection = db[OUTBOX]

    def ensure_indexes(self) -> None:
        """The index that finds due messages (status, next try)."""
        self.collection.create_index([("status", ASCENDING), ("next_try", ASCENDING)])
        self.collection.create_index("key", unique=True, sparse=True)

    def add_once(self, key: str, phone: str, text: str, now: datetime) -> MessageId | None:
        """Store a pending message under an idempotency key; None when the key was stored
        before (a retried event: the message is never queued twice)."""
        message_id = ObjectId()
        try:
            self.collection.insert_one(
                {"_id": message_id, "key": key[:500], "to": phone, "text": text,
                 "status": PENDING, "attempts": 0, "created": now, "next_try": now})
        except DuplicateKeyError:  # ours, when a retried insert met its own first attempt
            return message_id if self.collection.find_one({"_id": message_id}, {"_id": 1}) \
                else None
        return message_id

    def add_many_once(self, messages: list[tuple[str, str, str]], now: datetime
                      ) -> list[MessageId]:
        """Store pending messages (key, phone, text) in one bulk insert; the ids of those
        whose key was new (the others were queued before and are left alone)."""
        docs: list[dict[str, Any]] = [
            {"_id": ObjectId(), "key": key[:500], "to": phone, "text": text, "status": PENDING,
             "attempts": 0, "created": now, "next_try": now} for key, phone, text in messages]
        if not docs:
            return []
        try:
            self.collection.insert_many(docs, ordered=False)
        except BulkWriteError as error:
            errors = error.details.get("writeErrors", [])
            if any(e.get("code") != DUPLICATE_KEY for e in errors):
                raise
            return self.stored_of(docs)
        return [ObjectId(doc["_id"]) for doc in docs]

    def stored_of(self, docs: list[dict[str, Any]]) -> list[MessageId]:
        """The ids of these documents that are stored under their own `_id`: new ones, even
        when the driver retried the insert after a lost reply and the retry met them as
        duplicates (a store without retryable-write deduplication); a key queued before by
        another message is stored under that message's id, so it is not among them."""
        ours = {doc["_id"] for doc in docs}
        stored = {found["_id"] for found in self.collection.find({"_id": {"$in": list(ours)}},
                                                                 {"_id": 1})}
        return [ObjectId(doc["_id"]) for doc in docs if doc["_id"] in stored]

    def claim_many(self, message_ids: list[MessageId], lease_until: datetime | None = None
                   ) -> list[OutboxMessage]:
        """Mark these messages sending (an attempt counted; due again at `lease_until`) where
        still pending at no attempts; the messages this call claimed (a claim token tells them
        apart)."""
        token = ObjectId()
        lease = {} if lease_until is None else {"next_try": lease_until}
        self.collection.update_many(
            {"_id": {"$in": message_ids}, "status": PENDING, "attempts": 0},
            {"$set": {"status": SENDING, "claim": token, **lease}, "$inc": {"attempts": 1}})
        return [_message(doc) for doc in self.collection.find(
            {"_id": {"$in": message_ids}, "claim": token, "status": SENDING})]

    def mark_many_sent(self, message_ids: list[MessageId], at: datetime) -> None:
        """The gateway took these messages."""
        if message_ids:
            self.collection.update_many({"_id": {"$in": message_ids}},
                                        {"$set": {"status": SENT, "sent": at}})

    def add(self, phone: str, text: str, now: datetime) -> MessageId:
        """Store a pending message due now; its id."""
        message_id: MessageId = self.collection.insert_one(
            {"to": phone, "text": text, "status": PENDING, "attempts": 0,
             "created": now, "next_try": now}).inserted_id
        return message_id

    def get(self, message_id: MessageId) -> OutboxMessage | None:
        """A message by id, or None."""
        doc = self.collection.find_one({"_id": message_id})
        return None if doc is None else _message(doc)

    def claim(self, message: OutboxMessage, lease_until: datetime | None = None
              ) -> OutboxMessage | None:
        """Mark the message sending and count an attempt (due again at `lease_until`), when it
        is still in the status and at the attempts seen in `message` (pending, or sending past
        its lease); the message now sending (this attempt counted), or None."""
        lease = {} if lease_until is None else {"next_try": lease_until}
        doc = self.collection.find_one_and_update(
            {"_id": message.id, "status": message.status, "attempts": message.attempts},
            {"$set": {"status": SENDING, **lease}, "$inc": {"attempts": 1}},
            return_document=ReturnDocument.AFTER)
        return None if doc is None else _message(doc)

    def record_failure(self, message_id: MessageId, error: str, next_try: datetime,
                       give_up: bool) -> None:
        """A try failed: pending again until `next_try`, or failed for good."""
        self.collection.update_one({"_id": message_id}, {"$set": {
            "status": FAILED if give_up else PENDING, "error": error, "next_try": next_try}})

    def mark_sent(self, message_id: MessageId, at: datetime) -> None:
        """The gateway took the message."""
        self.collection.update_one({"_id": message_id}, {"$set": {"status": SENT, "sent": at}})

    def due(self, now: datetime, limit: int) -> list[OutboxMessage]:
        """Up to `limit` messages whose next try is not after `now`: pending, or sending past
        their lease (the worker that claimed them died)."""
        return [_message(doc) for doc in self.collection.find(
            {"status": {"$in": [PENDING, SENDING]}, "next_try": {"$lte": now}}).limit(limit)]

    def due_among(self, keys: list[str], now: datetime) -> list[OutboxMessage]:
        """The messages of these idempotency keys that are due (as `due`)."""
        return [_message(doc) for doc in self.collection.find(
            {"key": {"$in": [key[:500] for key in keys]},
             "status": {"$in": [PENDING, SENDING]}, "next_try": {"$lte": now}})]

    def counts(self) -> dict[str, int]:
        """Messages by status."""
        return {row["_id"]: row["n"] for row in self.collection.aggregate(
            [{"$group": {"_id": "$status", "n": {"$sum": 1}}}])}

"""A persistent outbox: every SMS is stored first, then delivered with retry and backoff."""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any

from bson import ObjectId
from pymongo import ASCENDING
from pymongo.database import Database

from fhir_server.notify.gateways import SmsGateway

log = logging.getLogger(__name__)
OUTBOX = "_outbox"
MAX_ATTEMPTS = 8


class Outbox:
    """Messages are never lost: stored, sent, retried with exponential backoff."""

    def __init__(self, db: Database, gateway: SmsGateway, clock: Callable[[], datetime]):
        self.collection = db[OUTBOX]
        self.gateway = gateway
        self.clock = clock
        self.collection.create_index([("status", ASCENDING), ("next_try", ASCENDING)])

    def enqueue(self, phone: str, text: str, deliver_now: bool = True) -> ObjectId:
        """Store a message (and try to deliver it at once)."""
        now = self.clock()
        message_id: ObjectId = self.collection.insert_one(
            {"to": phone, "text": text, "status": "pending", "attempts": 0,
             "created": now, "next_try": now}).inserted_id
        if deliver_now:
            self._deliver(self.collection.find_one({"_id": message_id}) or {})
        return message_id

    def _deliver(self, message: dict[str, Any]) -> bool:
        if not message or message.get("status") != "pending":
            return False
        claimed = self.collection.find_one_and_update(
            {"_id": message["_id"], "status": "pending", "attempts": message["attempts"]},
            {"$set": {"status": "sending"}, "$inc": {"attempts": 1}})
        if claimed is None:
            return False  # another worker is on it
        attempts = int(claimed["attempts"]) + 1
        try:
            self.gateway.send(claimed["to"], claimed["text"])
        except Exception as exc:  # noqa: BLE001 - any gateway failure is retried
            status = "failed" if attempts >= MAX_ATTEMPTS else "pending"
            delay = timedelta(seconds=min(3600, 5 * 2 ** attempts))
            self.collection.update_one({"_id": claimed["_id"]}, {"$set": {
                "status": status, "error": str(exc)[:200], "next_try": self.clock() + delay}})
            log.warning("SMS delivery failed (attempt %d): %s", attempts, exc)
            return False
        self.collection.update_one({"_id": claimed["_id"]},
                                   {"$set": {"status": "sent", "sent": self.clock()}})
        return True

    def deliver_pending(self, limit: int = 100) -> int:
        """Retry due messages (run periodically); returns how many were delivered."""
        due = self.collection.find({"status": "pending", "next_try": {"$lte": self.clock()}}
                                   ).limit(limit)
        return sum(1 for message in list(due) if self._deliver(message))

    def counts(self) -> dict[str, int]:
        """Messages by status."""
        return {row["_id"]: row["n"] for row in self.collection.aggregate(
            [{"$group": {"_id": "$status", "n": {"$sum": 1}}}])}

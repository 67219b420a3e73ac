"""A persistent outbox: every SMS is stored first, then delivered with retry and backoff.

Delivery is at least once (issue 16 point 3d). Each message is claimed for a lease
(FHIR_SMS_LEASE_SECONDS) before it goes to the gateway and marked sent right after; a worker
killed in between leaves it `sending`, and once the lease is over the retry loop, or a rerun of
the job that queued it, sends it again. So a crash never loses a message, and sends a message
twice only when the gateway took it in the instant before the crash (at most one message per
sending thread: the one in flight). Events are queued once per idempotency key, so a rerun of a
job never queues the same text again.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import datetime, timedelta

from fhir_server.metrics import sms_failed
from fhir_server.notify.gateways import SmsGateway
from fhir_server.storage.outbox_records import (
    PENDING,
    SENDING,
    MessageId,
    OutboxMessage,
    OutboxRecords,
)

log = logging.getLogger(__name__)
MAX_ATTEMPTS = 8
LEASE = timedelta(minutes=10)  # a claim older than this lost its worker (FHIR_SMS_LEASE_SECONDS)
CLAIM_GROUP = 20  # texts claimed at once: 20 x the gateway's 10 s timeout stays within the lease


class Outbox:
    """Messages are never lost: stored, sent, retried with exponential backoff."""

    def __init__(self, records: OutboxRecords, gateway: SmsGateway,
                 clock: Callable[[], datetime], lease: timedelta = LEASE) -> None:
        self.records = records
        self.gateway = gateway
        self.clock = clock
        self.lease = lease

    def enqueue(self, phone: str, text: str, deliver_now: bool = True) -> MessageId:
        """Store a message (and try to deliver it at once)."""
        message_id = self.records.add(phone, text, self.clock())
        if deliver_now:
            self._deliver(self.records.get(message_id))
        return message_id

    def enqueue_once(self, key: str, phone: str, text: str) -> bool:
        """Store and try to deliver a message once per key; False when the key was seen."""
        message_id = self.records.add_once(key, phone, text, self.clock())
        if message_id is None:
            return False
        self._deliver(self.records.get(message_id))
        return True

    def enqueue_many_once(self, messages: list[tuple[str, str, str]]) -> int:
        """Store messages (key, phone, text) once per key in bulk and try to deliver the new
        ones, and those of known keys still undelivered (a rerun after a crash); how many were
        new. Each is marked sent as soon as the gateway took it."""
        now = self.clock()
        fresh = self.records.add_many_once(messages, now)
        for start in range(0, len(fresh), CLAIM_GROUP):  # a group is sent well within its lease
            group = fresh[start:start + CLAIM_GROUP]
            for message in self.records.claim_many(group, self.clock() + self.lease):
                if self._send(message):
                    self.records.mark_sent(message.id, self.clock())
        if len(fresh) < len(messages):  # keys queued before: send those left behind
            for message in self.records.due_among([key for key, _, _ in messages], now):
                self._deliver(message)
        return len(fresh)

    def _send(self, claimed: OutboxMessage) -> bool:
        """Hand a claimed message to the gateway; a failure is recorded for a retry."""
        try:
            self.gateway.send(claimed.to, claimed.text)
        except Exception as exc:  # noqa: BLE001 - any gateway failure is retried
            delay = timedelta(seconds=min(3600, 5 * 2 ** claimed.attempts))
            self.records.record_failure(claimed.id, str(exc)[:200], self.clock() + delay,
                                        give_up=claimed.attempts >= MAX_ATTEMPTS)
            sms_failed()
            # never the error text in the log: a gateway may echo the number or the message
            log.warning("SMS delivery failed (message %s, attempt %d): %s", claimed.id,
                        claimed.attempts, type(exc).__name__)
            return False
        return True

    def _deliver(self, message: OutboxMessage | None) -> bool:
        if message is None or message.status not in (PENDING, SENDING):
            return False
        claimed = self.records.claim(message, self.clock() + self.lease)
        if claimed is None:
            return False  # another worker is on it
        if not self._send(claimed):
            return False
        self.records.mark_sent(claimed.id, self.clock())
        return True

    def deliver_pending(self, limit: int = 100) -> int:
        """Retry due messages (run periodically); returns how many were delivered."""
        due = self.records.due(self.clock(), limit)
        return sum(1 for message in due if self._deliver(message))

    def counts(self) -> dict[str, int]:
        """Messages by status."""
        return self.records.counts()

"""The outbox store (storage/outbox_records.py) against the real server: a message attempt
is claimed once whatever the number of threads; failures reschedule or give up; counts."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from pymongo.database import Database

from fhir_server.storage.outbox_records import OutboxRecords
from tests.storage.races import race

NOW = datetime(2026, 12, 3, 10, 0, tzinfo=UTC)


def test_outbox_message_is_claimed_once(db: Database[Any]) -> None:
    outbox = OutboxRecords(db)
    outbox.ensure_indexes()
    message_id = outbox.add("+84900000001", "hello", NOW)
    message = outbox.get(message_id)
    assert message is not None and message.pending and message.attempts == 0
    claimed = [m for m in race(lambda n: outbox.claim(message)) if m]
    assert len(claimed) == 1 and outbox.counts() == {"sending": 1}
    assert claimed[0].attempts == 1 and claimed[0].status == "sending"
    outbox.record_failure(message_id, "down", NOW + timedelta(seconds=10), give_up=False)
    assert outbox.due(NOW, 10) == []  # not due yet
    due = outbox.due(NOW + timedelta(seconds=10), 10)
    assert [m.attempts for m in due] == [1]
    assert outbox.claim(message) is None  # stale attempt count
    assert outbox.claim(due[0]) is not None
    outbox.record_failure(message_id, "down", NOW, give_up=True)
    assert outbox.counts() == {"failed": 1} and outbox.due(NOW, 10) == []
    other = outbox.add("+84900000002", "hi", NOW)
    outbox.mark_sent(other, NOW)
    assert outbox.counts() == {"failed": 1, "sent": 1}

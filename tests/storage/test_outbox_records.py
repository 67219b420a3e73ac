"""The outbox store (storage/outbox_records.py) against the real server: a message attempt
is claimed once whatever the number of threads; failures reschedule or give up; counts."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from bson import ObjectId
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


def test_bulk_add_skips_known_keys_and_claims_once(db: Database[Any]) -> None:
    """Bulk queueing (the nightly reminders): a key queued before is skipped, the new ones
    come back; of two bulk claims of the same messages, each message goes to one."""
    outbox = OutboxRecords(db)
    outbox.ensure_indexes()
    assert outbox.add_once("sms:reminder/1", "+84900000001", "one", NOW) is not None
    fresh = outbox.add_many_once([("sms:reminder/1", "+84900000001", "one again"),
                                  ("sms:reminder/2", "+84900000002", "two"),
                                  ("sms:reminder/3", "+84900000003", "three")], NOW)
    assert len(fresh) == 2 and outbox.counts() == {"pending": 3}
    assert outbox.add_many_once([("sms:reminder/2", "+84900000002", "two")], NOW) == []
    claims = race(lambda n: outbox.claim_many(fresh))
    claimed = [m.text for batch in claims for m in batch]
    assert sorted(claimed) == ["three", "two"]  # each message claimed by exactly one call
    outbox.mark_many_sent(fresh, NOW)
    assert outbox.counts() == {"pending": 1, "sent": 2}


def test_a_retried_bulk_insert_still_counts_its_own_messages_as_new(db: Database[Any]) -> None:
    """A driver retry after a lost reply meets the first attempt's documents as duplicates:
    they are still this call's new messages (their `_id` is ours); a key queued before by
    another message is not."""
    outbox = OutboxRecords(db)
    assert outbox.add_many_once([("sms:old", "+84900000009", "queued before")], NOW)
    docs = [{"_id": ObjectId(), "key": key, "to": "+84900000001", "text": "t",
             "status": "pending", "attempts": 0, "created": NOW, "next_try": NOW}
            for key in ("sms:a", "sms:b", "sms:old")]
    outbox.collection.insert_many(docs[:2])  # the first attempt landed, its reply was lost
    assert outbox.stored_of(docs) == [docs[0]["_id"], docs[1]["_id"]]

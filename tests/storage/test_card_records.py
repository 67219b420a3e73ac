"""CardRecords (storage/card_records.py) against the real server: issued health cards kept
by id (an upsert; tests/api/test_health_cards_api.py covers issuing and downloading)."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

import pytest
from pymongo.database import Database

from fhir_server.storage.card_records import CARDS, CardRecord, CardRecords
from tests.storage.records_db import own_database

ISSUED = datetime(2026, 12, 3, 10, 0, tzinfo=UTC)


@pytest.fixture()
def db(mongo_uri: str) -> Iterator[Database[Any]]:
    with own_database(mongo_uri) as database:
        yield database


def test_keep_and_find(db: Database[Any]) -> None:
    cards = CardRecords(db)
    card = CardRecord("a" * 64, "h.p.s", "pat-1", "kid-1")
    cards.keep(card, ISSUED)
    assert cards.find("a" * 64) == card
    assert cards.find("b" * 64) is None
    doc = db[CARDS].find_one({"_id": "a" * 64})
    assert doc is not None and doc["issued"] == ISSUED and doc["patient"] == "pat-1"


def test_keep_again_replaces(db: Database[Any]) -> None:
    cards = CardRecords(db)
    cards.keep(CardRecord("c" * 64, "h.p.s", "pat-1", "kid-1"), ISSUED)
    cards.keep(CardRecord("c" * 64, "h.p.s", "pat-1", "kid-2"), ISSUED)
    found = cards.find("c" * 64)
    assert found is not None and found.kid == "kid-2"
    assert db[CARDS].count_documents({}) == 1


# revocation needs the cards that carried a dose: found by Immunization id (indexed), each once
def test_cards_carrying_a_dose_and_marked_revoked(db: Database[Any]) -> None:
    cards = CardRecords(db)
    first = CardRecord("d" * 64, "h.p.s", "pat-1", "kid-1", "rid-1", ("imm-1",))
    second = CardRecord("e" * 64, "h.p.t", "pat-1", "kid-1", "rid-2", ("imm-1", "imm-2"))
    cards.keep(first, ISSUED)
    cards.keep(second, ISSUED)
    assert {c.id for c in cards.carrying("imm-1")} == {first.id, second.id}
    assert [c.id for c in cards.carrying("imm-2")] == [second.id]
    assert cards.carrying("imm-3") == []
    assert any("doses" in index["key"] for index in db[CARDS].list_indexes())
    cards.mark_revoked([second.id], ISSUED)
    again = datetime(2027, 1, 1, tzinfo=UTC)
    cards.mark_revoked([second.id], again)  # the first revocation time stays
    revoked = cards.find(second.id)
    assert revoked is not None and revoked.revoked == ISSUED and revoked.rid == "rid-2"
    assert revoked.doses == ("imm-1", "imm-2")
    assert cards.find(first.id) == first  # untouched: not revoked

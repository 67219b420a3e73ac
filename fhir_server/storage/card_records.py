"""Issued health cards (`_health_cards`), kept by the SHA-256 of their JWS for the download
endpoints (QR, shc:/ text, .smart-health-card file) and for revocation: each record names the
card's revocation id (`rid`, under key `kid`) and the Immunization ids it carried, so voiding
a dose finds every card that carried it (indexed)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from pymongo.database import Database

CARDS = "_health_cards"


@dataclass
class CardRecord:
    """An issued card as kept for later rendering and revocation."""

    id: str
    jws: str
    patient_id: str
    kid: str
    rid: str | None = None
    doses: tuple[str, ...] = ()  # ids of the Immunizations the card carries
    revoked: datetime | None = None


def _record(doc: dict[str, Any]) -> CardRecord:
    """A CardRecord of a stored document (records kept before revocation have no rid/doses)."""
    return CardRecord(doc["_id"], doc["jws"], doc["patient"], doc["kid"], doc.get("rid"),
                      tuple(doc.get("doses") or ()), doc.get("revoked"))


class CardRecords:
    """The issued cards of this server, one document per card id."""

    def __init__(self, db: Database[Any]) -> None:
        self.collection = db[CARDS]
        self.collection.create_index("doses")

    def keep(self, card: CardRecord, issued: datetime) -> None:
        """Store (or replace) the card under its id, with the time it was issued."""
        self.collection.replace_one(
            {"_id": card.id},
            {"jws": card.jws, "patient": card.patient_id, "kid": card.kid, "rid": card.rid,
             "doses": list(card.doses), "issued": issued, "revoked": card.revoked},
            upsert=True)

    def find(self, card_id: str) -> CardRecord | None:
        """The card kept under this id, or None."""
        doc = self.collection.find_one({"_id": card_id})
        return None if doc is None else _record(doc)

    def carrying(self, immunization_id: str) -> list[CardRecord]:
        """Every kept card that carries this Immunization (revoked ones too)."""
        return [_record(doc) for doc in self.collection.find({"doses": immunization_id})]

    def mark_revoked(self, card_ids: list[str], when: datetime) -> None:
        """Record that these cards were revoked (their rids are on their key's CRL)."""
        if card_ids:
            self.collection.update_many({"_id": {"$in": card_ids}, "revoked": None},
                                        {"$set": {"revoked": when}})

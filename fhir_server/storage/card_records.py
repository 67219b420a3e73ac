"""Issued health cards (`_health_cards`), kept by the SHA-256 of their JWS for the download
endpoints (QR, shc:/ text, .smart-health-card file)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from pymongo.database import Database

CARDS = "_health_cards"


@dataclass
class CardRecord:
    """An issued card as kept for later rendering."""

    id: str
    jws: str
    patient_id: str
    kid: str


class CardRecords:
    """The issued cards of this server, one document per card id."""

    def __init__(self, db: Database[Any]) -> None:
        self.collection = db[CARDS]

    def keep(self, card: CardRecord, issued: datetime) -> None:
        """Store (or replace) the card under its id, with the time it was issued."""
        self.collection.replace_one(
            {"_id": card.id},
            {"jws": card.jws, "patient": card.patient_id, "kid": card.kid, "issued": issued},
            upsert=True)

    def find(self, card_id: str) -> CardRecord | None:
        """The card kept under this id, or None."""
        doc = self.collection.find_one({"_id": card_id})
        if doc is None:
            return None
        return CardRecord(doc["_id"], doc["jws"], doc["patient"], doc["kid"])

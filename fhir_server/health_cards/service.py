"""The health-card service of a running server: its issuer keys, trust list and issued cards."""

from __future__ import annotations

import hashlib
import logging
import secrets
from collections.abc import Callable, Iterable
from dataclasses import replace
from datetime import datetime
from pathlib import Path
from typing import Any

from fhir_server.health_cards.errors import KeyStoreError
from fhir_server.health_cards.inputs import verify
from fhir_server.health_cards.issue import IssuedCard, issue_cards
from fhir_server.health_cards.keys import KeyStore
from fhir_server.health_cards.result import VerificationResult
from fhir_server.health_cards.trust import TrustedIssuers
from fhir_server.health_cards.verify import VerifyOptions
from fhir_server.metrics import card_issued
from fhir_server.storage.card_records import CardRecord, CardRecords

log = logging.getLogger(__name__)
StoredCard = CardRecord  # an issued card as kept for later rendering


def card_id(jws: str) -> str:
    """The id under which an issued card is kept: the SHA-256 of its JWS (hex)."""
    return hashlib.sha256(jws.encode("ascii")).hexdigest()


class HealthCardService:
    """Issues cards with this server's keys and keeps them for the QR/file endpoints."""

    def __init__(self, cards: CardRecords, issuer: str, key_dir: str, trusted_file: str,
                 clock: Callable[[], datetime]) -> None:
        self.cards = cards
        self.issuer = issuer.rstrip("/")
        self.clock = clock
        self.keys = KeyStore(Path(key_dir), clock=lambda: clock().timestamp())
        if not self.keys.list():
            try:
                info = self.keys.create()
                log.info("created the first health-card issuer key kid=%s in %s", info.kid,
                         key_dir)
            except KeyStoreError:
                pass  # another worker created it first
        self.trusted = (TrustedIssuers.load(trusted_file) if trusted_file
                        else TrustedIssuers())
        self.trusted.add_keystore(self.issuer, "this server", self.keys)

    @property
    def development(self) -> bool:
        """True when the issuer is not https: cards are for testing only (development mode)."""
        return not self.issuer.startswith("https://")

    def issue(self, patient: dict[str, Any], immunizations: Iterable[dict[str, Any]],
              lookup_display: Any = None) -> list[IssuedCard]:
        """Sign the patient's completed immunizations and keep the cards (one rid per card)."""
        patient_id = str(patient.get("id"))
        serial = secrets.token_urlsafe(12)  # this issuance: the cards' rids derive from it
        cards = issue_cards(patient, list(immunizations), iss=self.issuer, keys=self.keys,
                            now=self.clock().timestamp(), lookup_display=lookup_display,
                            rid_subject=f"{patient_id}/{serial}",
                            development=self.development)
        for card in cards:
            self.cards.keep(CardRecord(card_id(card.jws), card.jws, patient_id, card.kid,
                                       card.rid, card.carried), self.clock())
        card_issued(len(cards))
        return cards

    def carried(self, immunization_id: str) -> bool:
        """True when a card not yet revoked carries this dose."""
        return any(record.revoked is None and record.rid is not None
                   for record in self.cards.carrying(immunization_id))

    def revoke_carrying(self, immunization_id: str) -> list[str]:
        """Revoke every kept card that carried this dose (its rid onto its key's CRL)."""
        done: list[str] = []
        for record in self.cards.carrying(immunization_id):
            if record.rid is None or record.revoked is not None:
                continue
            try:
                self.keys.revoke(rid=record.rid, kid=record.kid)
            except KeyStoreError:  # the key was withdrawn: its cards no longer verify anyway
                log.warning("card %s: key %s is gone, nothing to revoke", record.id, record.kid)
            done.append(record.id)
        self.cards.mark_revoked(done, self.clock())
        if done:
            log.info("Immunization/%s voided: %d card(s) revoked", immunization_id, len(done))
        return done

    def verify(self, data: bytes | str, options: VerifyOptions) -> VerificationResult:
        """Verify a card against the trusted issuers (ours included) at the current time."""
        if self.development:  # our own http issuer: a warning, not an invalid card
            options = replace(options, development_issuers=frozenset({self.issuer}))
        return verify(data, self.trusted, now=self.clock().timestamp(), options=options)

    def stored(self, identifier: str) -> StoredCard | None:
        """An issued card by id (None when unknown)."""
        return self.cards.find(identifier)

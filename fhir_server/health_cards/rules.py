"""The card revocation rule: a voided dose revokes every health card that carried it.

SMART Health Cards "Revocation": an issuer revokes a card by listing its `rid` in the Card
Revocation List of the card's key (`/.well-known/crl/<kid>.json`), which verifiers check. A
dose stops being true when its Immunization is set to `entered-in-error` (or any status but
`completed`), is deleted, or is moved to another patient; every card kept in the issued-card
records (storage/card_records.py) that carried it is then revoked, whatever the door (REST
PUT/PATCH/DELETE, a bundle entry, an operation): the Repository runs this rule on each write of
an Immunization (write_rules.py). Cards that did not carry the dose stay valid, and the next
`$health-cards-issue` signs the doses that remain.

The revocation is made inside the write's transaction, before the write: should the write
then fail, the card stays revoked and the next call issues a fresh one; the reverse (a voided
dose on a card that still verifies) cannot happen. Revoking twice is harmless. A dose no live
card carries is written as before (no transaction); with FHIR_USE_TRANSACTIONS=0 (a standalone
MongoDB) the cards are revoked just before the write, with no transaction around it.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from fhir_server.health_cards.service import HealthCardService
from fhir_server.repository import Repository
from fhir_server.write_rules import add_write_rule

Resource = Mapping[str, Any] | None


def _patient(immunization: Mapping[str, Any]) -> str:
    patient = immunization.get("patient")
    return str(patient.get("reference") or "") if isinstance(patient, Mapping) else ""


def voids(proposed: Resource, current: Resource) -> bool:
    """True when this write takes back a completed dose (voided, deleted or moved)."""
    if current is None or current.get("status") != "completed":
        return False
    if proposed is None or proposed.get("status") != "completed":
        return True
    return _patient(proposed) != _patient(current)


def _cards(repo: Repository) -> HealthCardService | None:
    """The health-card service of the repository's services (None when cards are off)."""
    services = getattr(repo, "services", None)
    return services.components.get("health_cards") if services is not None else None


class CardRevocationRule:
    """On Immunization writes: revoke the cards that carried a dose being voided."""

    def check(self, repo: Repository, proposed: Resource, current: Resource) -> bool:
        """Never refuses; True when the write voids a dose that a card still carries."""
        cards = _cards(repo)
        if cards is None or current is None or not voids(proposed, current):
            return False
        if not cards.carried(str(current.get("id"))):
            return False  # never on a card: the write needs nothing more
        if not repo.services.settings.use_transactions:  # a standalone server: no transaction
            cards.revoke_carrying(str(current.get("id")))  # to join, so revoke before writing
            return False
        return True

    def apply(self, repo: Repository, proposed: Resource, current: Resource) -> None:
        """Put the rid of every card that carried the dose onto its key's CRL."""
        cards = _cards(repo)
        if cards is not None and current is not None and voids(proposed, current):
            cards.revoke_carrying(str(current.get("id")))


add_write_rule("Immunization", CardRevocationRule())

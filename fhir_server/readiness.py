"""What /readyz checks besides the database (issue 16 point 2): the signing keys are loaded.
No Flask: the route in fhir_server/rest/system.py formats it; the index check is storage's."""

from __future__ import annotations

from fhir_server.health_cards.keys import KeyStoreError
from fhir_server.interactions.context import Services


def missing_keys(svc: Services) -> list[str]:
    """Signing keys that are not loaded: the access-token key, the health-card issuer key."""
    missing = []
    auth = svc.components.get("auth")
    if auth is None or getattr(auth.signer, "key", None) is None:
        missing.append("access-token")
    cards = svc.components.get("health_cards")
    try:
        if cards is None:
            raise KeyStoreError("no health-card service")
        cards.keys.active_signing_key()
    except KeyStoreError:
        missing.append("health-card-issuer")
    return missing

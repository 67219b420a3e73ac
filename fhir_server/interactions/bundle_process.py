"""POST [base] with a Bundle: dispatch to the transaction or batch interaction."""

from __future__ import annotations

from typing import Any

from fhir_server.interactions.bundle_batch import run_batch
from fhir_server.interactions.bundle_entry import RETURN_PREFERENCES
from fhir_server.interactions.bundle_parse import bundle_entries, parse_entry
from fhir_server.interactions.bundle_transaction import run_transaction
from fhir_server.interactions.context import Services


def process_bundle(svc: Services, body: Any, prefer_return: str | None = None) -> dict[str, Any]:
    """Run a transaction or batch Bundle; `prefer_return` is Prefer: return= (lower case)."""
    kind, raw_entries = bundle_entries(body)
    prefer = prefer_return if prefer_return in RETURN_PREFERENCES else "representation"
    if kind == "batch":
        return run_batch(svc, raw_entries, prefer)
    base = svc.settings.base_url
    entries = [parse_entry(raw, index, base) for index, raw in enumerate(raw_entries)]
    return run_transaction(svc, entries, prefer)

"""The audit of a committed transaction: every entry named, in few AuditEvents.

A transaction is one unit: its entries succeed or fail together, so the entries of one kind
(interaction and method, no query of their own) share an AuditEvent that names each entry's
resource (`AuditEvent.entity` is 0..*), up to MAX_AUDITED_REFS per event. An entry with a query
(a search, a conditional write) keeps its own event, which describes that query. Each entry is
audited, without one stored AuditEvent per resource (that tripled ingest's database writes).
"""

from __future__ import annotations

from collections.abc import Sequence

from fhir_server.interactions.bundle_entry import EntryResult, entry_interaction
from fhir_server.interactions.bundle_parse import Entry
from fhir_server.interactions.context import Services
from fhir_server.repository import MAX_AUDITED_REFS


def audit_transaction(svc: Services, entries: Sequence[Entry],
                      results: Sequence[EntryResult]) -> None:
    """Record the AuditEvents of a committed transaction's entries."""
    grouped: dict[tuple[str, str], list[tuple[Entry, EntryResult]]] = {}
    for entry, result in zip(entries, results, strict=True):
        if entry.query:
            _audit(svc, [(entry, result)])
        else:
            grouped.setdefault((entry_interaction(entry), entry.method), []).append(
                (entry, result))
    for members in grouped.values():
        for start in range(0, len(members), MAX_AUDITED_REFS):
            _audit(svc, members[start:start + MAX_AUDITED_REFS])


def _audit(svc: Services, members: Sequence[tuple[Entry, EntryResult]]) -> None:
    first, result = members[0]
    with svc.store.audit_unit(entry_interaction(first), first.method, first.query) as unit:
        unit.status = result.status
        for entry, done in members:
            if entry.type_name is not None:
                unit.touch(entry.type_name, done.version.id if done.version else None)

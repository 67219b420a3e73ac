"""Import NDJSON resources (one per line) in chunks, each chunk in one database transaction.

Per line: references rewritten through the --dedupe aliases (and conditional references
resolved), then `crud.update` (the resource has an id: an upsert, as Bulk Data $import does) or
`crud.create` — the same validation, checkers and versioning as a single request. A line that
fails validation is reported (path:line: message) and skipped; its chunk still commits. A store
conflict inside the chunk's transaction redoes the chunk line by line without a transaction.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from typing import Any

from fhir_server.bulk.bundle_tools import DEDUPE_TYPES, identifier_criteria
from fhir_server.errors import Conflict, FhirError, InvalidRequest, PreconditionFailed
from fhir_server.interactions import crud
from fhir_server.interactions.bundle_entry import match_one
from fhir_server.interactions.bundle_refs import ReferenceMap
from fhir_server.interactions.context import Services
from fhir_server.resource_types import is_supported
from fhir_server.storage.errors import DatabaseError


class _Redo(Exception):
    """The chunk's transaction cannot go on: redo it line by line."""


@dataclass
class LinesOutcome:
    """What a chunk did (merged into the import's totals only once it commits)."""

    created: int = 0
    updated: int = 0
    unchanged: int = 0
    errors: list[tuple[int, str]] = field(default_factory=list)
    skipped: Counter[str] = field(default_factory=Counter)
    aliases: dict[str, str] = field(default_factory=dict)


def describe(error: FhirError) -> str:
    """One line for the error file: the diagnostics with their expressions."""
    parts = []
    for issue in error.issues or []:
        where = f" [{', '.join(issue.expression)}]" if issue.expression else ""
        parts.append(f"{issue.diagnostics}{where}")
    return "; ".join(parts) or error.message


class LineWriter:
    """Writes the resources of NDJSON lines through the interactions layer."""

    def __init__(self, svc: Services, aliases: dict[str, str], dedupe: bool,
                 skip_unsupported: bool) -> None:
        self.svc = svc
        self.aliases = aliases
        self.dedupe = dedupe
        self.skip_unsupported = skip_unsupported

    def write(self, items: list[tuple[int, Any]]) -> LinesOutcome:
        """Write (line number, parsed JSON) items: in one transaction when possible."""
        if self.svc.settings.use_transactions:
            def unit() -> LinesOutcome:
                outcome = LinesOutcome()
                for number, resource in items:
                    self._one(number, resource, outcome, in_transaction=True)
                return outcome

            try:  # conflicts are re-run by the storage layer (with_transaction)
                return self.svc.store.transact(unit)
            except (_Redo, DatabaseError):
                pass  # line by line below
            except FhirError as error:
                if error.status != 501:  # 501: this database refuses transactions
                    raise
        outcome = LinesOutcome()
        for number, resource in items:
            self._one(number, resource, outcome, in_transaction=False)
        return outcome

    def _references(self, outcome: LinesOutcome) -> ReferenceMap:
        refs = ReferenceMap(self.svc.settings.base_url, self._conditional)
        refs.targets.update(self.aliases)
        refs.targets.update(outcome.aliases)
        return refs

    def _conditional(self, reference: str) -> str:
        type_name, _, criteria = reference.partition("?")
        found = match_one(self.svc, type_name, criteria, "reference")
        if found is None:
            raise InvalidRequest(f"no {type_name} matches", code="not-found")
        return f"{type_name}/{found.id}"

    def _one(self, number: int, resource: Any, outcome: LinesOutcome,
             in_transaction: bool) -> None:
        try:
            self._resource(resource, outcome)
        except (Conflict, PreconditionFailed) as error:
            if in_transaction:
                raise _Redo() from error
            outcome.errors.append((number, describe(error)))
        except FhirError as error:
            outcome.errors.append((number, describe(error)))

    def _resource(self, resource: Any, outcome: LinesOutcome) -> None:
        if not isinstance(resource, dict) or not isinstance(resource.get("resourceType"), str):
            raise InvalidRequest("a line must hold one FHIR resource (a JSON object with "
                                 "resourceType)", code="structure")
        type_name = resource["resourceType"]
        if not is_supported(type_name):
            if self.skip_unsupported:
                outcome.skipped[type_name] += 1
                return
            raise InvalidRequest.at(f"Resource type '{type_name[:60]}' is not supported by this "
                                    "server (use --skip-unsupported to skip it)",
                                    "resourceType", "not-supported")
        resource = self._references(outcome).rewrite(resource, type_name)
        resource_id = resource.get("id")
        if self.dedupe and type_name in DEDUPE_TYPES:
            criteria = identifier_criteria(resource)
            found = match_one(self.svc, type_name, criteria, "dedupe") if criteria else None
            if found is not None:
                if isinstance(resource_id, str) and resource_id != found.id:
                    outcome.aliases[f"{type_name}/{resource_id}"] = f"{type_name}/{found.id}"
                outcome.unchanged += 1
                return
        if isinstance(resource_id, str):
            result = crud.update(self.svc, type_name, resource_id, resource)
        else:
            result = crud.create(self.svc, type_name, resource)
        if result.created:
            outcome.created += 1
        else:
            outcome.updated += 1

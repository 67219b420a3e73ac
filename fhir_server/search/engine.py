"""Clauses -> criteria per type, resolving chains and reverse chains by extra queries.

Chains (`patient.identifier=...`, search.html#chaining) first find the ids of the referenced
resources, then match the reference keys; reverse chains (`_has:...`, search.html#has) collect
the references of the matching resources. Every query - including these inner ones - runs
through the store given, the caller's Repository, which ANDs the caller's restriction into it.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Protocol

from fhir_server.errors import Forbidden, InvalidRequest
from fhir_server.search.criteria import (
    Context,
    Criteria,
    IdIn,
    Match,
    RefersTo,
    Sort,
    Term,
)
from fhir_server.search.params import Clause
from fhir_server.storage.base import ResourceStore, StoredVersion

MAX_JOIN = 10_000  # ids a chain or reverse chain may resolve to


class SearchStore(ResourceStore, Protocol):
    """The storage search needs: the ResourceStore (criteria, ids and reference keys)."""


class Engine:
    """Builds and runs search criteria against the store."""

    def __init__(self, store: SearchStore, base_url: str) -> None:
        self.store = store
        self.base_url = base_url.rstrip("/")

    def context(self) -> Context:
        """A fresh compile context (the clock matters for `ap`)."""
        return Context(self.base_url)

    def terms(self, type_name: str, clauses: Sequence[Clause]) -> list[Term]:
        """The criteria terms of one type's clauses (chains resolved to keys)."""
        ctx = self.context()
        found: list[Term] = []
        for clause in clauses:
            if clause.chain:
                found.append(self._chain(clause))
            elif clause.has is not None:
                found.append(self._reverse_chain(type_name, clause))
            else:
                found.append(Match(clause, ctx))
        return found

    def criteria(self, type_name: str, clauses: Sequence[Clause],
                 extra: Iterable[Term] = ()) -> Criteria:
        """The criteria of one type's clauses (plus extra terms)."""
        return Criteria((*self.terms(type_name, clauses), *extra))

    def _ids(self, type_name: str, criteria: Criteria, what: str) -> list[str]:
        found = self.store.ids(type_name, criteria)
        if len(found) > MAX_JOIN:
            raise InvalidRequest.at(f"{what} matches more than {MAX_JOIN} resources; narrow it",
                                    what, "too-costly")
        return found

    def _chain(self, clause: Clause) -> Term:
        keys: list[str] = []
        refused: list[Forbidden] = []
        for target, inner in clause.chain:
            try:
                ids = self._ids(target, self.criteria(target, [inner]), clause.name)
            except Forbidden as exc:  # a type the caller may not see adds nothing they could
                if clause.modifier is not None or len(clause.chain) == 1:
                    raise
                refused.append(exc)
                continue
            keys.extend(f"{target}/{resource_id}" for resource_id in ids)
            if len(keys) > MAX_JOIN:
                raise InvalidRequest.at(f"{clause.name} matches too many resources",
                                        clause.name, "too-costly")
        if len(refused) == len(clause.chain):
            raise refused[0]
        return RefersTo(clause, tuple(keys))

    def _reverse_chain(self, type_name: str, clause: Clause) -> Term:
        assert clause.has is not None
        source, reference, inner = clause.has
        values = self.store.references(source, reference.code, self.criteria(source, [inner]))
        prefix = type_name + "/"
        ids = sorted({v[len(prefix):] for v in values if v.startswith(prefix)})
        if len(ids) > MAX_JOIN:
            raise InvalidRequest.at(f"{clause.name} matches more than {MAX_JOIN} resources",
                                    clause.name, "too-costly")
        return IdIn(tuple(ids))

    def find(self, type_name: str, criteria: Criteria, sort: Sort | None,
             limit: int) -> list[StoredVersion]:
        """Run criteria (sorted, limited)."""
        return list(self.store.find(type_name, criteria, sort=sort, limit=limit))

    def by_ids(self, type_name: str, ids: Sequence[str]) -> list[StoredVersion]:
        """The current resources with these ids that the guard lets us see."""
        if not ids:
            return []
        return list(self.store.find(type_name, Criteria((IdIn(tuple(ids)),)), limit=len(ids)))

"""Clauses -> one Mongo filter per type, resolving chains and reverse chains by extra queries.

Chains (`patient.identifier=...`, search.html#chaining) first find the ids of the referenced
resources, then match the reference keys; reverse chains (`_has:...`, search.html#has) collect
the references of the matching resources. Both go through indexed `idx` values, and every
query - including these inner ones - runs through the store given, the caller's Repository,
which ANDs the caller's restriction into it.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from typing import Any, Protocol

from fhir_server.errors import InvalidRequest
from fhir_server.search.compile import Context, Part, compile_clause
from fhir_server.search.compile.base import NOTHING, keyed
from fhir_server.search.params import Clause
from fhir_server.search.plan import build_filter
from fhir_server.storage.base import ResourceStore, StoredVersion

MAX_JOIN = 10_000  # ids a chain or reverse chain may resolve to


class SearchStore(ResourceStore, Protocol):
    """The storage search needs: the ResourceStore plus distinct values."""

    def distinct(self, type_name: str, field: str, query: Mapping[str, Any]) -> list[Any]:
        """The distinct values of a field among the current versions matching a query."""


class Engine:
    """Builds and runs search queries against the store."""

    def __init__(self, store: SearchStore, base_url: str) -> None:
        self.store = store
        self.base_url = base_url.rstrip("/")

    def context(self) -> Context:
        """A fresh compile context (the clock matters for `ap`)."""
        return Context(self.base_url)

    def parts(self, type_name: str, clauses: Sequence[Clause]) -> list[Part]:
        """Compile the clauses of one type (chains resolved to keys)."""
        ctx = self.context()
        compiled = []
        for clause in clauses:
            if clause.chain:
                compiled.append(self._chain(clause))
            elif clause.has is not None:
                compiled.append(self._reverse_chain(type_name, clause))
            else:
                compiled.append(compile_clause(clause, ctx))
        return compiled

    def query(self, type_name: str, parts: Iterable[Part],
              extra: Iterable[Mapping[str, Any]] = ()) -> dict[str, Any]:
        """The filter for AND-ed parts (the repository adds the caller's restriction)."""
        return build_filter(parts, list(extra))

    def filter_for(self, type_name: str, clauses: Sequence[Clause]) -> dict[str, Any]:
        """Compile and assemble the clauses of one type."""
        return self.query(type_name, self.parts(type_name, clauses))

    def _ids(self, type_name: str, query: Mapping[str, Any], what: str) -> list[str]:
        found = [str(i) for i in self.store.distinct(type_name, "_id", query)]
        if len(found) > MAX_JOIN:
            raise InvalidRequest.at(f"{what} matches more than {MAX_JOIN} resources; narrow it",
                                    what, "too-costly")
        return found

    def _chain(self, clause: Clause) -> Part:
        keys: list[str] = []
        for target, inner in clause.chain:
            ids = self._ids(target, self.filter_for(target, [inner]), clause.name)
            keys.extend(f"{target}/{resource_id}" for resource_id in ids)
            if len(keys) > MAX_JOIN:
                raise InvalidRequest.at(f"{clause.name} matches too many resources",
                                        clause.name, "too-costly")
        return keyed(clause, keys, 10)

    def _reverse_chain(self, type_name: str, clause: Clause) -> Part:
        assert clause.has is not None
        source, reference, inner = clause.has
        query = self.filter_for(source, [inner])
        values = self.store.distinct(source, f"idx.p.{reference.code}", query)
        prefix = type_name + "/"
        ids = sorted({v[len(prefix):] for v in values
                      if isinstance(v, str) and v.startswith(prefix)})
        if len(ids) > MAX_JOIN:
            raise InvalidRequest.at(f"{clause.name} matches more than {MAX_JOIN} resources",
                                    clause.name, "too-costly")
        if not ids:
            return Part(exact=dict(NOTHING), rank=0)
        test = ids[0] if len(ids) == 1 else {"$in": ids}
        return Part(exact={"_id": test}, hint=("_id", test), hint_exact=True, rank=5)

    def find(self, type_name: str, query: Mapping[str, Any], sort: Sequence[tuple[str, int]],
             limit: int) -> list[StoredVersion]:
        """Run a query (sorted, limited)."""
        return list(self.store.find(type_name, query, sort=sort, limit=limit))

    def by_ids(self, type_name: str, ids: Sequence[str]) -> list[StoredVersion]:
        """The current resources with these ids that the guard lets us see."""
        if not ids:
            return []
        test = ids[0] if len(ids) == 1 else {"$in": list(ids)}
        query = self.query(type_name, [Part(exact={"_id": test}, hint=("_id", test),
                                            hint_exact=True, rank=0)])
        return list(self.store.find(type_name, query, limit=len(ids)))

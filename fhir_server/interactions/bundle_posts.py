"""Write the POST entries of a transaction (FHIR R4 http.html#trules, bundle.html#references).

An entry is written once every entry it references has an id, so its placeholders resolve before
it is validated; a reference cycle gets one id planned up front (then that entry goes through
crud.update with it). The entries ready together are prepared one by one by `crud.create` itself
(validation, checkers, access guard — through a `Collector` that keeps the resource instead of
writing it), then created per type with one bulk insert (`store.create_many`): two database
round trips per type instead of two per resource.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from datetime import UTC, datetime
from typing import Any, Protocol

from fhir_server.interactions import crud
from fhir_server.interactions.bundle_entry import EntryResult
from fhir_server.interactions.bundle_parse import Entry
from fhir_server.interactions.bundle_refs import ReferenceMap, reference_strings
from fhir_server.interactions.context import Services, WriteResult
from fhir_server.storage.base import StoredVersion

Prepared = tuple[Entry, dict[str, Any], list[Any]]


class Collector:
    """A store stand-in given to crud.create: it keeps the resource crud would create (validated,
    checked, guarded) instead of writing it; any other call goes to the real store."""

    def __init__(self, store: Any) -> None:
        self.store = store
        self.captured: dict[str, Any] | None = None

    def create(self, type_name: str, resource: dict[str, Any],
               resource_id: str | None = None) -> StoredVersion:
        """Keep the resource; answer a provisional version (the bulk insert makes the real)."""
        self.captured = resource
        return StoredVersion(type_name, "", 0, datetime.now(UTC), resource, "POST")

    def __getattr__(self, name: str) -> Any:
        return getattr(self.store, name)


class Run(Protocol):
    """What PostWriter needs of the transaction it works for."""

    svc: Services
    refs: ReferenceMap
    planned: dict[int, str]
    results: dict[int, EntryResult]

    def step(self, entry: Entry, action: Callable[[Entry], None],
             fallback: str = "request.url") -> None:
        """Run an action for an entry, locating its errors in the entry."""

    def plan_id(self, entry: Entry) -> str:
        """Give an entry its id before it is written."""

    def post(self, entry: Entry) -> None:
        """Write one POST entry through crud."""


class PostWriter:
    """Writes the POST entries of one transaction run."""

    def __init__(self, run: Run) -> None:
        self.run = run
        self.bulk: Callable[[str, list[dict[str, Any]]], list[StoredVersion]] | None = getattr(
            run.svc.store, "create_many", None)

    def write(self, posts: list[Entry]) -> None:
        """Write every POST entry, in reference order."""
        run = self.run
        unresolved = {e.full_url for e in posts if e.full_url} - set(run.refs.targets)
        needs = {e.index: {ref for ref in reference_strings(e.resource) if ref in unresolved}
                 for e in posts}
        remaining = list(posts)
        while remaining:
            ready = [e for e in remaining
                     if all(ref in run.refs.targets for ref in needs[e.index])]
            if not ready:  # a reference cycle: fix one id before writing
                run.plan_id(next(e for e in remaining if e.index not in run.planned))
                continue
            self._create(ready)
            remaining = [e for e in remaining if e.index not in run.results]

    def _create(self, entries: list[Entry]) -> None:
        by_type: dict[str, list[Prepared]] = {}
        for entry in entries:
            assert entry.type_name is not None
            if entry.index in self.run.planned or self.bulk is None:
                self.run.step(entry, self.run.post)
            else:
                by_type.setdefault(entry.type_name, []).append(self._prepared(entry))
        for type_name, group in by_type.items():
            assert self.bulk is not None
            versions = self.bulk(type_name, [resource for _e, resource, _i in group])
            for (entry, _resource, issues), version in zip(group, versions, strict=True):
                self.run.refs.add(entry.full_url, type_name, version.id)
                self.run.results[entry.index] = EntryResult.of_write(
                    WriteResult(version, created=True, issues=issues))

    def _prepared(self, entry: Entry) -> Prepared:
        """The resource crud.create would store for this entry, and its warnings."""
        collector = Collector(self.run.svc.store)
        services = replace(self.run.svc, store=collector)  # type: ignore[arg-type]  # captures
        issues: list[Any] = []

        def prepare(entry: Entry) -> None:
            """Resolve the entry's references, then let crud.create check it."""
            resource = self.run.refs.rewrite(entry.resource or {}, f"{entry.where}.resource")
            issues.extend(crud.create(services, entry.type_name or "", resource).issues)

        self.run.step(entry, prepare)
        assert collector.captured is not None
        return entry, collector.captured, issues

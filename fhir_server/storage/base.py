"""The storage interface the interactions depend on."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import AbstractContextManager
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any, Protocol

if TYPE_CHECKING:
    from fhir_server.search.criteria import Criteria, Sort
    from fhir_server.search.values import Values



class Indexer(Protocol):
    """Extracts a resource's search values per parameter (search/extract.SearchIndexer)."""

    def entries(self, resource: dict[str, Any]) -> list[tuple[str, Values]]:
        """The (parameter code, values) of every indexed parameter the resource has."""


@dataclass(frozen=True)
class StoredVersion:
    """One version of one resource; resource is None for a deletion tombstone."""

    type: str
    id: str
    version: int
    last_updated: datetime
    resource: dict[str, Any] | None
    method: str = "PUT"

    @property
    def deleted(self) -> bool:
        """True for the tombstone a delete leaves."""
        return self.resource is None

    @property
    def etag(self) -> str:
        """The weak ETag of this version."""
        return f'W/"{self.version}"'


@dataclass(frozen=True)
class HistoryPage:
    """A page of versions, newest first, and the total count."""

    versions: list[StoredVersion]
    total: int


class ResourceStore(Protocol):
    """Versioned resource storage: every write is an atomic compare-and-set on the version."""

    def create(self, type_name: str, resource: dict[str, Any],
               resource_id: str | None = None) -> StoredVersion:
        """Store version 1 of a new resource (server-assigned id unless given)."""

    def update(self, type_name: str, resource_id: str, resource: dict[str, Any],
               if_match: int | None = None) -> tuple[StoredVersion, bool]:
        """Store a new version (or create with the client id); True when created."""

    def delete(self, type_name: str, resource_id: str,
               if_match: int | None = None) -> StoredVersion | None:
        """Leave a tombstone version; None when there was nothing live to delete."""

    def read(self, type_name: str, resource_id: str) -> StoredVersion:
        """The current version (NotFound / Gone)."""

    def vread(self, type_name: str, resource_id: str, version: int) -> StoredVersion:
        """One stored version (NotFound; a tombstone is returned as such)."""

    def history(self, type_name: str | None, resource_id: str | None, *,
                since: datetime | None, until: datetime, offset: int, count: int,
                at: tuple[datetime, datetime] | None = None) -> HistoryPage:
        """Versions newest first, lastUpdated in (since, until]; with `at`, those current then."""

    def find(self, type_name: str, criteria: Criteria, *, sort: Sort | None = None,
             skip: int = 0, limit: int = 0) -> Iterator[StoredVersion]:
        """Current versions matching the criteria, in the sort's order."""

    def count(self, type_name: str, criteria: Criteria) -> int:
        """How many current versions match the criteria."""

    def ids(self, type_name: str, criteria: Criteria) -> list[str]:
        """The ids of the current versions matching the criteria."""

    def references(self, type_name: str, code: str, criteria: Criteria) -> list[str]:
        """The distinct reference keys a reference parameter holds among the matches."""

    def atomic(self) -> AbstractContextManager[Any]:
        """A context in which every write commits together or not at all."""

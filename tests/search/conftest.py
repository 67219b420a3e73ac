"""Fixtures for search tests: resources indexed by the real indexer in a fresh database, and
searched with the real compiler (no HTTP), so each compiler is checked against the server."""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterator, Sequence
from typing import Any

import pytest
from pymongo import MongoClient
from pymongo.database import Database

from fhir_server.auth.principal import Principal
from fhir_server.repository import Repository
from fhir_server.resource_types import RESOURCE_TYPES
from fhir_server.search.extract import SearchIndexer
from fhir_server.search.registry import date_params
from fhir_server.search.service import SearchService
from fhir_server.settings import Settings
from fhir_server.storage.mongo import MongoResourceStore
from fhir_server.storage.search_indexes import ensure_search_indexes

BASE = "http://fhir.test/fhir"
Finder = Callable[[str, Sequence[tuple[str, str]]], set[str]]


class SearchBed:
    """A store with the search indexer, and a helper that returns the ids a search matches."""

    def __init__(self, db: Database) -> None:
        settings = Settings(base_url=BASE)
        self.db = db
        self.store = MongoResourceStore(db, settings.clock, SearchIndexer(BASE))
        self.service = SearchService(self.store, settings)

    def add(self, resource: dict[str, Any]) -> str:
        """Store a resource (its id kept, or a new one) and return its id."""
        resource_id = resource.get("id") or uuid.uuid4().hex
        version, _ = self.store.update(resource["resourceType"], resource_id,
                                       {**resource, "id": resource_id})
        return version.id

    def ids(self, type_name: str, params: Sequence[tuple[str, str]] | str,
            caller: Principal | None = None) -> set[str]:
        """The ids of the resources of a type that the search parameters match (as seen by
        `caller` through a Repository when given; straight from the store otherwise)."""
        if isinstance(params, str):
            params = [tuple(p.split("=", 1)) for p in params.split("&")]  # type: ignore[misc]
        if caller is None:
            query = self.service.criteria_for(type_name, params)  # type: ignore[arg-type]
            return {v.id for v in self.store.find(type_name, query)}
        door = Repository(self.store, caller, BASE)
        service = SearchService(door, self.service.settings)
        query = service.criteria_for(type_name, params)  # type: ignore[arg-type]
        return {v.id for v in door.find(type_name, query)}

    def as_caller(self, caller: Principal) -> SearchService:
        """A search service over the Repository bound to this caller."""
        return SearchService(Repository(self.store, caller, BASE), self.service.settings)


@pytest.fixture(scope="module")
def bed(mongo_uri: str) -> Iterator[SearchBed]:
    """A fresh database per test module, with the search indexes."""
    client: MongoClient[dict[str, Any]] = MongoClient(mongo_uri, tz_aware=True)
    name = f"search_{uuid.uuid4().hex[:10]}"
    db = client[name]
    ensure_search_indexes(db, {name: date_params(name) for name in RESOURCE_TYPES})
    yield SearchBed(db)
    client.drop_database(name)
    client.close()

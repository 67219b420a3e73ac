"""Storage behind one interface: ResourceStore (current + history collections)."""

from fhir_server.storage.base import HistoryPage, ResourceStore, StoredVersion

__all__ = ["ResourceStore", "StoredVersion", "HistoryPage"]

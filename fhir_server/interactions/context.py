"""What every interaction is given: the services, and the results it returns."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qsl

from fhir_server.errors import InvalidRequest
from fhir_server.search.service import SearchService
from fhir_server.settings import Settings
from fhir_server.storage.base import ResourceStore, StoredVersion


@dataclass
class Services:
    """The collaborators interactions use: storage, search and settings."""

    store: ResourceStore
    search: SearchService
    settings: Settings


@dataclass
class WriteResult:
    """A write's outcome: the stored version, and whether it created the resource."""

    version: StoredVersion
    created: bool
    changed: bool = True
    issues: list[Any] = field(default_factory=list)

    @property
    def status(self) -> int:
        """201 for a creation, 200 otherwise."""
        return 201 if self.created else 200


def parse_criteria(query: str) -> list[tuple[str, str]]:
    """Parse 'a=1&b=2' (optionally prefixed by 'Type?') into (name, value) pairs."""
    if "?" in query:
        query = query.split("?", 1)[1]
    try:
        pairs = parse_qsl(query, keep_blank_values=True, strict_parsing=bool(query))
    except ValueError as exc:
        raise InvalidRequest(f"Malformed search criteria: {exc}") from exc
    return pairs


def parse_etag(value: str | None, header: str = "If-Match") -> int | None:
    """Read a version number from W/"n" (or "n"); None when absent."""
    if value is None or value.strip() == "":
        return None
    raw = value.strip()
    if raw.startswith("W/"):
        raw = raw[2:]
    raw = raw.strip('"')
    if not raw.isdigit() or len(raw) > 12:
        raise InvalidRequest.at(f"Malformed {header} header: expected W/\"<version>\"", header,
                                "value")
    return int(raw)

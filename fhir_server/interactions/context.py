"""What every interaction is given: the services, and the results it returns."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Protocol
from urllib.parse import parse_qsl

from fhir_server.errors import InvalidRequest, Issue, Unprocessable
from fhir_server.model.parse import validate_resource
from fhir_server.search.service import SearchService
from fhir_server.settings import Settings
from fhir_server.storage.base import ResourceStore, StoredVersion


class ResourceChecker(Protocol):
    """A rule set applied to every resource written (profiles, business rules)."""

    def check(self, resource: dict[str, Any]) -> list[Issue]:
        """Issues found; any with severity error or fatal rejects the write (422)."""


@dataclass
class Services:
    """The collaborators interactions use: storage, search, settings and write checkers."""

    store: ResourceStore
    search: SearchService
    settings: Settings
    checkers: list[ResourceChecker] = field(default_factory=list)
    components: dict[str, Any] = field(default_factory=dict)  # optional services by name

    def checked(self, body: Any, type_name: str) -> tuple[dict[str, Any], list[Issue]]:
        """Validate a resource (400 when not valid FHIR, 422 when a checker rejects it);
        return it with the non-blocking issues (warnings) found."""
        resource = validate_resource(body, type_name)
        issues = [issue for checker in self.checkers for issue in checker.check(resource)]
        if any(issue.severity in ("error", "fatal") for issue in issues):
            raise Unprocessable("The resource does not conform to the applicable profiles or "
                                "business rules", code="processing", issues=issues)
        return resource, issues


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

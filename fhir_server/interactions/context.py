"""What every interaction is given: the services, and the results it returns."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Protocol
from urllib.parse import parse_qsl

from fhir_server.auth.principal import INTERNAL_PRINCIPAL, Principal
from fhir_server.errors import InvalidRequest, Issue, Unprocessable
from fhir_server.model.parse import validate_resource
from fhir_server.repository import AuditRecorder, AuditUnit, Repository, Store
from fhir_server.search.service import SearchService
from fhir_server.settings import Settings
from fhir_server.storage.base import StoredVersion


class ResourceChecker(Protocol):
    """A rule set applied to every resource written (profiles, business rules)."""

    def check(self, resource: dict[str, Any]) -> list[Issue]:
        """Issues found; any with severity error or fatal rejects the write (422)."""


@dataclass
class Services:
    """The collaborators interactions use: the repository (the one door to resources, bound to
    one caller), search over it, settings and write checkers."""

    store: Repository
    settings: Settings
    checkers: list[ResourceChecker] = field(default_factory=list)
    components: dict[str, Any] = field(default_factory=dict)  # optional services by name
    _search: SearchService | None = field(default=None, repr=False, compare=False)

    def __post_init__(self) -> None:
        if getattr(self.store, "services", False) is None:  # after-write effects use these
            self.store.services = self

    @property
    def search(self) -> SearchService:
        """Search over this caller's repository (made on first use: a read needs none)."""
        if self._search is None:
            self._search = SearchService(self.store, self.settings)
        return self._search

    @classmethod
    def anonymous(cls, backend: Store, settings: Settings) -> Services:
        """Services whose caller is anonymous (the default: bind a caller to do anything)."""
        from fhir_server.auth.principal import ANONYMOUS_PRINCIPAL

        repository = Repository(backend, ANONYMOUS_PRINCIPAL, settings.base_url)
        return cls(store=repository, settings=settings)

    def bind(self, caller: Principal, recorder: AuditRecorder | None = None,
             unit: AuditUnit | None = None) -> Services:
        """The same services acting for this caller (per request, per job)."""
        repository = Repository(self.store.store, caller, self.settings.base_url, recorder,
                                unit)
        return Services(repository, self.settings, self.checkers, self.components)

    def internal(self) -> Services:
        """The same services acting as the server itself (start-up, CLI, jobs: say so here)."""
        return self.bind(INTERNAL_PRINCIPAL)

    @property
    def caller(self) -> Principal:
        """Who these services act for."""
        return self.store.caller

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

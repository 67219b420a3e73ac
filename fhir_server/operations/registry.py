"""The registry of $operations: the single source for routing and the CapabilityStatement."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

from fhir_server.errors import InvalidRequest
from fhir_server.interactions.context import Services


@dataclass
class OperationCall:
    """One invocation: where it was called, its query parameters and its (parsed) body."""

    name: str
    type_name: str | None
    resource_id: str | None
    method: str
    query: list[tuple[str, str]]
    body: Any = None
    headers: dict[str, str] = field(default_factory=dict)
    client_address: str | None = None
    media: str | None = None  # a non-FHIR answer asked for (text/csv), when the operation has it

    def parameters(self) -> list[tuple[str, Any]]:
        """Inputs from the query string and from a Parameters body, in order."""
        values: list[tuple[str, Any]] = list(self.query)
        if isinstance(self.body, dict) and self.body.get("resourceType") == "Parameters":
            for parameter in self.body.get("parameter", []):
                name = parameter.get("name")
                value = next((v for k, v in parameter.items() if k.startswith("value")),
                             parameter.get("resource", parameter.get("part")))
                values.append((name, value))
        return values

    def first(self, name: str, default: Any = None) -> Any:
        """The first value of a named input."""
        return next((value for key, value in self.parameters() if key == name), default)

    def require(self, name: str) -> Any:
        """The first value of a required input (400 when missing)."""
        value = self.first(name)
        if value is None:
            raise InvalidRequest.at(f"Parameter '{name}' is required for ${self.name}", name,
                                    "required")
        return value


@dataclass
class OperationResult:
    """What an operation answers: a JSON body (or raw bytes) with status and headers."""

    body: Any = None
    status: int = 200
    headers: dict[str, str] = field(default_factory=dict)
    content_type: str | None = None
    raw: bytes | None = None


Handler = Callable[[Services, OperationCall], OperationResult]
Scope = Callable[[OperationCall], Sequence[str]]


@dataclass(frozen=True)
class OperationDefinition:
    """An operation's name, where it may be called and its handler."""

    name: str
    handler: Handler
    system: bool = False
    types: tuple[str, ...] = ()
    instance: bool = False
    type_level: bool = False
    methods: tuple[str, ...] = ("POST",)
    affects_state: bool = False
    definition: str | None = None
    documentation: str = ""
    access: str = "authenticated"  # public | authenticated | instance-read | admin
    # what a call asks for, noted in the audit as asked before the access check: an operation
    # audited whatever types it names (bulk export); the body is not read yet
    audit_scope: Scope | None = None
    # OperationDefinition.parameter of the definition made from this entry (definitions.py)
    parameters: tuple[dict[str, Any], ...] = ()
    formats: tuple[str, ...] = ()  # media types answered besides FHIR JSON/XML (text/csv)


_OPERATIONS: dict[str, OperationDefinition] = {}


def register(definition: OperationDefinition) -> OperationDefinition:
    """Add an operation to the registry (one name, one definition)."""
    _OPERATIONS[definition.name] = definition
    return definition


def operation(name: str, **options: Any) -> Callable[[Handler], Handler]:
    """Decorator form of register()."""
    def wrap(handler: Handler) -> Handler:
        register(OperationDefinition(name=name, handler=handler, **options))
        return handler
    return wrap


def all_operations() -> Sequence[OperationDefinition]:
    """Every registered operation, by name."""
    _load_builtin()
    return [_OPERATIONS[name] for name in sorted(_OPERATIONS)]


def find(name: str) -> OperationDefinition | None:
    """The operation registered under this name."""
    _load_builtin()
    return _OPERATIONS.get(name)


def _load_builtin() -> None:
    """Import the operation modules so that they register themselves."""
    import fhir_server.operations.builtin  # noqa: F401

"""Who is asking: the principal of the current request (a context variable)."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar, Token
from dataclasses import dataclass, field

from fhir_server.auth.scopes import ScopeSet

CITIZEN, STAFF, SYSTEM, ANONYMOUS, INTERNAL = "citizen", "staff", "system", "anonymous", "internal"
ROLES = ("practitioner", "analyst", "admin")


@dataclass(frozen=True)
class Principal:
    """An authenticated (or anonymous) caller and what it may do."""

    kind: str
    subject: str
    scopes: ScopeSet = field(default_factory=lambda: ScopeSet((), ()))
    patient_ids: frozenset[str] = frozenset()
    roles: frozenset[str] = frozenset()
    patient: str | None = None
    session: str | None = None
    address: str | None = None
    client: str | None = None  # the SMART app a citizen's token was issued to, if any

    @property
    def reference(self) -> str:
        """Who, as a reference-like string for audit (Patient/x, Device/client, ...)."""
        if self.kind == CITIZEN and self.patient:
            return f"Patient/{self.patient}"
        return f"{self.kind}/{self.subject}"


INTERNAL_PRINCIPAL = Principal(INTERNAL, "server")
ANONYMOUS_PRINCIPAL = Principal(ANONYMOUS, "anonymous")
_current: ContextVar[Principal] = ContextVar("fhir_principal", default=ANONYMOUS_PRINCIPAL)


def current_principal() -> Principal:
    """The principal of the running request (anonymous unless someone says otherwise:
    internal work opts in with `acting_as(INTERNAL_PRINCIPAL)`)."""
    return _current.get()


@contextmanager
def acting_as(principal: Principal) -> Iterator[Principal]:
    """Run the enclosed code on behalf of this principal."""
    token = _current.set(principal)
    try:
        yield principal
    finally:
        _current.reset(token)


def set_principal(principal: Principal) -> Token[Principal]:
    """Set the principal for the rest of this request (the REST layer does this first)."""
    return _current.set(principal)


def reset_principal(token: Token[Principal]) -> None:
    """Undo set_principal at the end of the request."""
    _current.reset(token)

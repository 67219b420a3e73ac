"""SMART on FHIR scopes (v1 `.read/.write/.*` and v2 `.cruds`) as permission sets."""

from __future__ import annotations

import re
from dataclasses import dataclass

from fhir_server.errors import InvalidRequest

ACTIONS = frozenset("cruds")
_V1 = {"read": frozenset("rs"), "write": frozenset("cud"), "*": frozenset("cruds")}
_SCOPE = re.compile(r"(patient|user|system)/(\*|[A-Z][A-Za-z]{1,63})\.(read|write|\*|[cruds]{1,5})"
                    r"(\?.*)?")


@dataclass(frozen=True)
class Permission:
    """One resource scope: context (patient/user/system), type (or *), allowed actions."""

    context: str
    type_name: str
    actions: frozenset[str]

    def allows(self, type_name: str, action: str) -> bool:
        """True when this scope grants the action (c r u d s) on the type."""
        return (self.type_name in ("*", type_name)) and action in self.actions


def parse_scope(scope: str) -> Permission | None:
    """One SMART scope string as a Permission; None for non-resource scopes (openid...)."""
    match = _SCOPE.fullmatch(scope)
    if match is None:
        return None
    context, type_name, access = match.group(1), match.group(2), match.group(3)
    if access in _V1:
        actions = _V1[access]
    else:
        if list(access) != sorted(access, key="cruds".index) or len(set(access)) != len(access):
            raise InvalidRequest(f"Malformed SMART v2 scope '{scope[:80]}': use the order cruds")
        actions = frozenset(access)
    return Permission(context, type_name, actions)


@dataclass(frozen=True)
class ScopeSet:
    """The scopes a token grants."""

    raw: tuple[str, ...]
    permissions: tuple[Permission, ...]

    @classmethod
    def parse(cls, text: str) -> ScopeSet:
        """Parse a space-separated scope string (unknown non-resource scopes are kept as is)."""
        raw = tuple(part for part in text.split() if part)
        permissions = tuple(p for p in (parse_scope(s) for s in raw) if p is not None)
        return cls(raw, permissions)

    def allows(self, type_name: str, action: str, contexts: tuple[str, ...]) -> bool:
        """True when any scope of these contexts grants the action on the type."""
        return any(p.context in contexts and p.allows(type_name, action)
                   for p in self.permissions)

    def contexts(self) -> set[str]:
        """The scope contexts present (patient, user, system)."""
        return {p.context for p in self.permissions}

    def narrowed(self, requested: str) -> ScopeSet:
        """The requested scopes that this set grants (for token requests)."""
        granted = []
        for scope in requested.split():
            permission = parse_scope(scope)
            if permission is None:
                if scope in self.raw:
                    granted.append(scope)
                continue
            if all(self.allows(permission.type_name if permission.type_name != "*" else "*",
                               action, (permission.context,)) for action in permission.actions):
                granted.append(scope)
        return ScopeSet.parse(" ".join(granted))

    def __str__(self) -> str:
        return " ".join(self.raw)

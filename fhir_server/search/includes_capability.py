"""The _include and _revinclude values each type supports, for CapabilityStatement.rest.resource
.searchInclude / .searchRevInclude (search.html#include): every supported reference parameter,
from the search registry (so the lists grow with the types and parameters)."""

from __future__ import annotations

from functools import cache

from fhir_server.resource_types import RESOURCE_TYPES
from fhir_server.search.registry import supported_params


def _references(type_name: str) -> list[tuple[str, tuple[str, ...]]]:
    """(code, target types) of a type's supported reference parameters."""
    return [(p.code, p.targets) for p in supported_params(type_name) if p.kind == "reference"]


def search_includes(type_name: str) -> list[str]:
    """`Type:*` and `Type:param` for each reference parameter of the type."""
    values = [f"{type_name}:{code}" for code, _ in _references(type_name)]
    return [f"{type_name}:*", *values] if values else []


@cache
def _revincludes() -> dict[str, tuple[str, ...]]:
    """target type -> the `Source:param` values that can point at it."""
    found: dict[str, list[str]] = {}
    for source in sorted(RESOURCE_TYPES):
        for code, targets in _references(source):
            for target in targets or RESOURCE_TYPES:
                found.setdefault(target, []).append(f"{source}:{code}")
    return {target: tuple(values) for target, values in found.items()}


def search_revincludes(type_name: str) -> list[str]:
    """`Source:param` for each reference parameter of any type that can point at this one."""
    return list(_revincludes().get(type_name, ()))

"""The registry of FHIR resource types this server stores, read from spec/resource_types.json.

Every concrete R4 (4.0.1) resource type is stored except the few the generated file lists in
`notStored` with their reason (Parameters has no RESTful endpoint; the R4 types the validating
R4B models no longer have). Regenerate with `python -m fhir_server.spec.make_spec`.
"""

from __future__ import annotations

from dataclasses import dataclass

from fhir_server.spec import not_stored_types, type_specs

INTERACTIONS = ("read", "vread", "update", "patch", "delete", "history-instance",
                "history-type", "create", "search-type")


@dataclass(frozen=True)
class ResourceTypeInfo:
    """One supported resource type, its R4 categories and the interactions it offers."""

    name: str
    category: str = ""  # structuredefinition-category, e.g. "Clinical.Summary"
    security: str = ""  # structuredefinition-security-category: anonymous, business, patient...
    interactions: tuple[str, ...] = INTERACTIONS


def _stored() -> tuple[ResourceTypeInfo, ...]:
    """The stored types, in name order."""
    skipped = not_stored_types()
    return tuple(ResourceTypeInfo(name, spec["category"], spec["security"])
                 for name, spec in sorted(type_specs().items()) if name not in skipped)


RESOURCE_TYPES: dict[str, ResourceTypeInfo] = {info.name: info for info in _stored()}


def is_supported(type_name: str) -> bool:
    """True when the server stores resources of this type."""
    return type_name in RESOURCE_TYPES


def security_category(type_name: str) -> str:
    """The R4 security category of a stored type ('' when unknown)."""
    info = RESOURCE_TYPES.get(type_name)
    return info.security if info is not None else ""

"""The registry of FHIR resource types this server stores: adding a type is one line."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class ResourceTypeInfo:
    """One supported resource type and the interactions it offers."""

    name: str
    interactions: tuple[str, ...] = (
        "read", "vread", "update", "patch", "delete", "history-instance",
        "history-type", "create", "search-type",
    )


_TYPES: tuple[ResourceTypeInfo, ...] = (
    ResourceTypeInfo("Patient"),
    ResourceTypeInfo("Immunization"),
    ResourceTypeInfo("AdverseEvent"),
    ResourceTypeInfo("QuestionnaireResponse"),
    ResourceTypeInfo("Appointment"),
    ResourceTypeInfo("RelatedPerson"),
    ResourceTypeInfo("Practitioner"),
    ResourceTypeInfo("PractitionerRole"),
    ResourceTypeInfo("Organization"),
    ResourceTypeInfo("Location"),
    ResourceTypeInfo("Questionnaire"),
    ResourceTypeInfo("Schedule"),
    ResourceTypeInfo("Slot"),
    ResourceTypeInfo("Communication"),
    ResourceTypeInfo("Flag"),
    ResourceTypeInfo("AuditEvent"),
    ResourceTypeInfo("CodeSystem"),
    ResourceTypeInfo("ValueSet"),
    ResourceTypeInfo("ConceptMap"),
    ResourceTypeInfo("StructureDefinition"),
    ResourceTypeInfo("MeasureReport"),
    ResourceTypeInfo("Group"),
)

RESOURCE_TYPES: dict[str, ResourceTypeInfo] = {info.name: info for info in _TYPES}


def is_supported(type_name: str) -> bool:
    """True when the server stores resources of this type."""
    return type_name in RESOURCE_TYPES

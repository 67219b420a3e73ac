"""The CapabilityStatement, generated from the registries (never hand-written)."""

from __future__ import annotations

from typing import Any

from fhir_server import __version__
from fhir_server.operations.definitions import canonical
from fhir_server.operations.registry import OperationDefinition, all_operations
from fhir_server.resource_types import RESOURCE_TYPES
from fhir_server.search.includes_capability import search_includes, search_revincludes
from fhir_server.search.registry import capability_search_params
from fhir_server.settings import Settings
from fhir_server.spec import compartments

COMPARTMENT_BASE = "http://hl7.org/fhir/CompartmentDefinition/"

SYSTEM_INTERACTIONS = ("transaction", "batch", "history-system", "search-system")


def _operation_entry(definition: OperationDefinition, base_url: str) -> dict[str, Any]:
    """One operation, naming the definition served at [base]/OperationDefinition."""
    entry: dict[str, Any] = {"name": definition.name,
                             "definition": canonical(definition, base_url)}
    if definition.documentation:
        entry["documentation"] = definition.documentation
    return entry


def _security(settings: Settings) -> dict[str, Any]:
    """SMART on FHIR: the security service code and the OAuth endpoints."""
    base = settings.base_url
    return {
        "cors": True,
        "service": [{"coding": [{
            "system": "http://terminology.hl7.org/CodeSystem/restful-security-service",
            "code": "SMART-on-FHIR"}]}],
        "description": ("Bearer access tokens (ES256 JWT). Citizens log in with phone or BHXH code "
                        "(POST /auth/login); SMART apps use the standalone patient launch "
                        "(/authorize, authorization code + PKCE S256) and systems SMART Backend "
                        "Services (private_key_jwt), both at /token. Discovery: "
                        "/.well-known/smart-configuration"
                        + ("" if settings.auth_required else
                           ". AUTHENTICATION IS DISABLED on this deployment")),
        "extension": [{
            "url": "http://fhir-registry.smarthealthit.org/StructureDefinition/oauth-uris",
            "extension": [{"url": "authorize", "valueUri": f"{base}/authorize"},
                          {"url": "token", "valueUri": f"{base}/token"},
                          {"url": "revoke", "valueUri": f"{base}/auth/logout"}]}],
    }


def capability_statement(settings: Settings, software_date: str) -> dict[str, Any]:
    """Describe what this server does, per resource type."""
    resources = []
    operations = all_operations()
    for info in RESOURCE_TYPES.values():
        resources.append({
            "type": info.name,
            "profile": f"http://hl7.org/fhir/StructureDefinition/{info.name}",
            "interaction": [{"code": code} for code in info.interactions],
            "versioning": "versioned-update",
            "readHistory": True,
            "updateCreate": True,
            "conditionalCreate": True,
            "conditionalRead": "modified-since",
            "conditionalUpdate": True,
            "conditionalDelete": "single",
            "referencePolicy": ["literal", "local"],
            "searchInclude": search_includes(info.name),
            "searchRevInclude": search_revincludes(info.name),
            "searchParam": capability_search_params(info.name),
            "operation": [_operation_entry(op, settings.base_url) for op in operations
                          if (op.type_level or op.instance)
                          and (not op.types or info.name in op.types)],
        })
    for entry in resources:
        for key in ("operation", "searchInclude", "searchRevInclude"):
            if not entry[key]:
                del entry[key]
    rest: dict[str, Any] = {
        "mode": "server",
        "security": _security(settings),
        "resource": resources,
        "interaction": [{"code": code} for code in SYSTEM_INTERACTIONS],
        # capabilitystatement.html: the compartments searched as [base]/[Type]/[id]/[type]
        "compartment": [f"{COMPARTMENT_BASE}{name.lower()}" for name in sorted(compartments())],
    }
    system_operations = [_operation_entry(op, settings.base_url) for op in operations if op.system]
    if system_operations:
        rest["operation"] = system_operations
    return {
        "resourceType": "CapabilityStatement",
        "status": "active",
        "date": software_date,
        "publisher": "fhir_server",
        "kind": "instance",
        "software": {"name": "fhir_server", "version": __version__},
        "implementation": {"description": "Vietnam electronic health book FHIR server",
                           "url": settings.base_url},
        "fhirVersion": "4.0.1",
        "format": ["application/fhir+json", "json", "application/fhir+xml", "xml"],
        "patchFormat": ["application/json-patch+json"],
        "rest": [rest],
    }

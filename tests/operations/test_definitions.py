"""OperationDefinitions made from the registry (FHIR R4 operationdefinition.html,
capabilitystatement-definitions.html#CapabilityStatement.rest.resource.operation.definition)."""

from __future__ import annotations

import json
from collections.abc import Callable

import pytest
from flask import Flask

from fhir_server.model.parse import validate_resource
from fhir_server.operations.definitions import OFFICIAL, canonical, operation_definitions
from fhir_server.operations.registry import all_operations
from fhir_server.resource_types import is_supported
from fhir_server.spec.package import ensure_examples_package

BASE = "https://fhir.test/fhir"


def test_every_operation_has_a_valid_definition() -> None:
    """operationdefinition.html: each operation the CapabilityStatement names has a definition
    (the official R4 one where it exists, e.g. Patient-everything, else made from the registry:
    code, levels, types, affectsState), and each is a valid OperationDefinition."""
    if not is_supported("OperationDefinition"):
        pytest.skip("OperationDefinition is not a stored type yet")
    by_url = {d["url"]: d for d in operation_definitions(BASE)}
    for operation in all_operations():
        definition = by_url[canonical(operation, BASE)]
        assert definition["code"] == operation.name
        validate_resource(definition, "OperationDefinition")
    assert canonical(next(op for op in all_operations() if op.name == "everything"), BASE) == (
        OFFICIAL + "Patient-everything")
    made = by_url[f"{BASE}/OperationDefinition/verify-identity"]
    assert made["instance"] is True and made["resource"] == ["Patient"]
    assert made["affectsState"] is True


def test_official_definitions_are_the_spec_ones() -> None:
    """The official definitions are copied from the R4 package (without narrative)."""
    root = ensure_examples_package() / "package"
    for definition in operation_definitions(BASE):
        if definition["url"].startswith(OFFICIAL):
            spec = json.loads((root / f"OperationDefinition-{definition['id']}.json").read_bytes())
            spec.pop("text", None)
            assert definition == spec


def test_capability_definitions_are_served(make_app: Callable[..., Flask]) -> None:
    """capabilitystatement.html: every OperationDefinition the CapabilityStatement names is
    served, by id and by canonical url (loaded with the conformance resources)."""
    if not is_supported("OperationDefinition"):
        pytest.skip("OperationDefinition is not a stored type yet")
    client = make_app(load_conformance=True).test_client()
    statement = client.get("/metadata").get_json()
    rest = statement["rest"][0]
    named = {op["definition"] for op in rest.get("operation", [])}
    for resource in rest["resource"]:
        named |= {op["definition"] for op in resource.get("operation", [])}
    assert named
    for url in sorted(named):
        found = client.get("/OperationDefinition", query_string={"url": url}).get_json()
        assert found["total"] == 1, url
        the_id = found["entry"][0]["resource"]["id"]
        read = client.get(f"/OperationDefinition/{the_id}")
        assert read.status_code == 200 and read.get_json()["url"] == url

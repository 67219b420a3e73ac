"""$operation routing through the registry (FHIR R4 operations.html#executing)."""

from __future__ import annotations

from collections.abc import Callable

from flask import Flask

from fhir_server.interactions.context import Services
from fhir_server.operations.registry import (
    OperationCall,
    OperationDefinition,
    OperationResult,
    register,
)
from tests.conftest import BASE_URL


def _echo(svc: Services, call: OperationCall) -> OperationResult:
    return OperationResult({"resourceType": "Parameters", "parameter": [
        {"name": "level", "valueString": "/".join(filter(None, (call.type_name,
                                                                call.resource_id))) or "system"},
        {"name": "x", "valueString": str(call.first("x"))}]})


register(OperationDefinition("test-echo", _echo, system=True, type_level=True, instance=True,
                             types=("Patient",), methods=("GET", "POST")))


def test_levels_and_parameters(make_app: Callable[..., Flask]) -> None:
    client = make_app().test_client()
    body = client.get("/$test-echo?x=1").get_json()
    assert body["parameter"][0]["valueString"] == "system"
    assert body["parameter"][1]["valueString"] == "1"
    posted = client.post("/Patient/$test-echo", json={"resourceType": "Parameters", "parameter": [
        {"name": "x", "valueString": "from-body"}]}).get_json()
    assert posted["parameter"] == [{"name": "level", "valueString": "Patient"},
                                   {"name": "x", "valueString": "from-body"}]
    assert client.get("/Patient/abc/$test-echo").get_json()["parameter"][0][
        "valueString"] == "Patient/abc"


def test_errors(make_app: Callable[..., Flask]) -> None:
    client = make_app().test_client()
    assert client.get("/$no-such-op").status_code == 404
    assert client.get("/Organization/$test-echo").status_code == 404
    assert client.get("/Spaceship/$test-echo").status_code == 404
    wrong = client.delete("/$test-echo")
    assert wrong.status_code == 405 and wrong.headers["Allow"] == "GET, POST"


def test_capability_lists_operations(make_app: Callable[..., Flask]) -> None:
    statement = make_app().test_client().get("/metadata").get_json()
    rest = statement["rest"][0]
    # no official definition: the server's own, made from the registry (operations/definitions)
    assert {"name": "test-echo",
            "definition": f"{BASE_URL}/OperationDefinition/test-echo"} in rest["operation"]
    patient = next(r for r in rest["resource"] if r["type"] == "Patient")
    assert any(op["name"] == "test-echo" for op in patient["operation"])

"""The OpenAPI document is structurally valid OpenAPI 3.0 and lists every route of the app.

openapi-spec-validator is not installed, so the structure is checked here against the rules of
the OpenAPI 3.0.3 specification a client generator relies on: required top-level fields, path
templates with declared path parameters, unique (name, in) parameters, resolvable $refs,
responses on every operation, known security schemes, unique operationIds.
"""

from __future__ import annotations

import re
import time
from collections.abc import Callable, Iterator
from typing import Any

from flask import Flask
from flask.testing import FlaskClient

from fhir_server.operations.registry import all_operations
from fhir_server.resource_types import RESOURCE_TYPES
from fhir_server.search.registry import supported_params

METHODS = {"get", "put", "post", "delete", "options", "head", "patch", "trace"}
ASSETS = {"/static/<path:filename>", "/docs/assets/<path:filename>",
          "/authorize/static/<path:filename>", "/verify/static/<path:filename>",
          "/dashboard/static/<path:filename>"}  # files


def _refs(node: Any) -> Iterator[str]:
    if isinstance(node, dict):
        for key, value in node.items():
            if key == "$ref" and isinstance(value, str):
                yield value
            else:
                yield from _refs(value)
    elif isinstance(node, list):
        for item in node:
            yield from _refs(item)


def _resolve(spec: dict[str, Any], ref: str) -> Any:
    assert ref.startswith("#/"), ref
    node: Any = spec
    for part in ref[2:].split("/"):
        assert isinstance(node, dict) and part in node, ref
        node = node[part]
    return node


def _parameters(spec: dict[str, Any], items: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [_resolve(spec, p["$ref"]) if "$ref" in p else p for p in items]


# OpenAPI 3.0.3 (spec.openapis.org/oas/v3.0.3): the fields and rules a generator depends on
def test_document_is_structurally_valid_openapi_3(client: FlaskClient) -> None:
    spec = client.get("/openapi.json").get_json()
    assert re.fullmatch(r"3\.0\.\d+", spec["openapi"])
    assert spec["info"]["title"] and spec["info"]["version"]
    for ref in set(_refs(spec)):
        _resolve(spec, ref)
    schemes = spec["components"]["securitySchemes"]
    assert schemes["bearer"]["scheme"] == "bearer"
    assert set(schemes["smart"]["flows"]) == {"authorizationCode", "clientCredentials"}
    operation_ids: list[str] = []
    for path, item in spec["paths"].items():
        assert path.startswith("/"), path
        templated = set(re.findall(r"{([^}/]+)}", path))
        shared = _parameters(spec, item.get("parameters", []))
        operations = {m: op for m, op in item.items() if m in METHODS}
        assert operations, path
        for method, operation in operations.items():
            assert operation["responses"], (path, method)
            for status in operation["responses"]:
                assert status == "default" or re.fullmatch(r"[1-5](\d\d|XX)", status)
            own = _parameters(spec, operation.get("parameters", []))
            keys = [(p["name"], p["in"]) for p in own]
            assert len(keys) == len(set(keys)), (path, method, keys)
            merged = {(p["name"], p["in"]): p for p in [*shared, *own]}
            in_path = {name for name, where in merged if where == "path"}
            assert in_path == templated, (path, method, in_path)
            assert all(merged[(n, "path")]["required"] is True for n in in_path)
            assert all("schema" in p or "content" in p for p in merged.values())
            for requirement in operation.get("security", spec.get("security", [])):
                assert set(requirement) <= set(schemes), (path, method)
            assert re.fullmatch(r"[A-Za-z0-9_]+", operation["operationId"]), (path, method)
            operation_ids.append(operation["operationId"])
    assert len(operation_ids) == len(set(operation_ids))


def _openapi_pattern(rule: str) -> str:
    """A Flask rule as a regex over OpenAPI paths (a variable matches a name or a {template})."""
    names = "|".join(sorted(RESOURCE_TYPES))
    text = re.sub(r"<fhirtype:[^>]+>", f"(?:{names}|{{type}})", re.escape(rule).replace(
        r"\<", "<").replace(r"\>", ">").replace(r"\$", "$"))
    text = text.replace("$<name>", r"\$[A-Za-z-]+")
    return "^" + re.sub(r"<[^>]+>", r"(?:[A-Za-z]+|{[a-z_]+})", text) + "$"


# every Flask route of the app (but the static files) has a path item with its methods
def test_every_flask_route_is_documented(make_app: Callable[..., Flask]) -> None:
    app = make_app()
    spec = app.test_client().get("/openapi.json").get_json()
    missing = []
    for rule in app.url_map.iter_rules():
        if rule.rule in ASSETS:
            continue
        pattern = re.compile(_openapi_pattern(rule.rule))
        methods = {m.lower() for m in rule.methods or ()} - {"head", "options"}
        if rule.endpoint.startswith("fhir_operations."):
            methods = {"post"}  # each operation lists its own methods (below)
        if rule.endpoint == "fhir_system.metadata_is_read_only":
            continue  # a 405 for every write to /metadata, nothing to call
        found = [item for path, item in spec["paths"].items() if pattern.match(path)]
        if not any(methods & set(item) for item in found):
            missing.append(f"{rule.rule} {sorted(methods)}")
    assert not missing, missing


# operations.html: every registered $operation at each level it may be called, with its methods
def test_every_operation_is_documented(client: FlaskClient) -> None:
    paths = client.get("/openapi.json").get_json()["paths"]
    for definition in all_operations():
        methods = {m.lower() for m in definition.methods}
        heads = list(definition.types) or ["{type}"]
        expected = ([f"/${definition.name}"] if definition.system else []) + \
            ([f"/{h}/${definition.name}" for h in heads] if definition.type_level else []) + \
            ([f"/{h}/{{id}}/${definition.name}" for h in heads] if definition.instance else [])
        assert expected, definition.name
        for path in expected:
            assert methods <= set(paths[path]), (path, methods)
            if "post" in methods:
                body = paths[path]["post"]["requestBody"]["content"]
                assert body["application/fhir+json"]["schema"]["$ref"].endswith("/Parameters")
    verify = paths["/$verify-health-card"]["post"]
    assert verify["security"] == []


# search.html: each type's supported parameters, and the result parameters, on its search
def test_search_parameters_per_type(client: FlaskClient) -> None:
    spec = client.get("/openapi.json").get_json()
    for name in ("Patient", "Immunization", "Observation"):
        if name not in RESOURCE_TYPES:
            continue
        listed = _parameters(spec, spec["paths"][f"/{name}"]["get"]["parameters"])
        by_name = {p["name"]: p for p in listed}
        for parameter in supported_params(name):
            assert by_name[parameter.code]["schema"] == {"type": "string"} or \
                parameter.code.startswith("_"), parameter.code
            if not parameter.code.startswith("_"):
                assert parameter.kind in by_name[parameter.code]["description"]
        assert {"_count", "_sort", "_include", "_revinclude", "_summary", "_elements",
                "_format", "_cursor"} <= set(by_name)


# security: the document-wide requirement, and the public routes that need no token
def test_security_on_operations(client: FlaskClient) -> None:
    spec = client.get("/openapi.json").get_json()
    assert {"bearer": []} in spec["security"] and {"smart": []} in spec["security"]
    public = ["/metadata", "/.well-known/smart-configuration", "/.well-known/jwks.json",
              "/auth/register", "/auth/login", "/token"]
    for path in public:
        operation = next(op for m, op in spec["paths"][path].items() if m in METHODS)
        assert operation["security"] == [], path
    assert "security" not in spec["paths"]["/Patient/{id}"]["get"]  # the document-wide one
    assert spec["paths"]["/auth/family"]["get"]["security"] != []


# FHIR JSON: no pydantic-only keys; the /auth bodies are JSON schemas
def test_schemas_are_fhir_json_and_auth_bodies(client: FlaskClient) -> None:
    response = client.get("/openapi.json")
    assert b"fhir_comments" not in response.data
    schemas = response.get_json()["components"]["schemas"]
    assert schemas["Parameters"]["properties"]["resourceType"]["enum"] == ["Parameters"]
    assert "_birthDate" in schemas["Patient"]["properties"]  # a FHIR primitive extension key
    assert set(schemas["RegisterRequest"]["required"]) == {"full_name", "phone", "password"}
    assert "access_token" in schemas["Tokens"]["required"]


# built once and cached: size and build time stay bounded
def test_document_size_and_build_time(make_app: Callable[..., Flask]) -> None:
    client = make_app().test_client()
    started = time.monotonic()
    first = client.get("/openapi.json")
    built = time.monotonic() - started
    started = time.monotonic()
    again = client.get("/openapi.json")
    cached = time.monotonic() - started
    assert first.data == again.data
    assert len(first.data) < 2_000_000, len(first.data)
    assert built < 30 and cached < 1, (built, cached)


def _conforms(spec: dict[str, Any], path: str, method: str, status: int, body: Any) -> None:
    """The body validates against the JSON schema documented for this path, method, status."""
    import jsonschema_rs

    answer = spec["paths"][path][method]["responses"][str(status)]
    schema = answer["content"]["application/json"]["schema"]
    validator = jsonschema_rs.validator_for({**schema, "components": spec["components"]})
    errors = [str(error) for error in validator.iter_errors(body)]
    assert not errors, (path, method, status, errors)


# the /auth JSON schemas describe what the routes really answer (a citizen and a family member)
def test_auth_answers_match_their_schemas(make_app: Callable[..., Flask]) -> None:
    from tests.api.auth_helpers import PASSWORD, bearer, next_phone, sms_codes

    app = make_app(auth_required=True)
    web = app.test_client()
    spec = web.get("/openapi.json").get_json()
    started = web.post("/auth/register", json={"full_name": "Đặng Thị Hương",
                                               "phone": next_phone(), "password": PASSWORD,
                                               "gender": "female", "birthDate": "1988-02-03"})
    _conforms(spec, "/auth/register", "post", started.status_code, started.get_json())
    begun = started.get_json()
    confirmed = web.post("/auth/register/confirm", json={
        "registration": begun["registration"], "code": sms_codes(app, begun["phone"])[-1]})
    _conforms(spec, "/auth/register/confirm", "post", confirmed.status_code,
              confirmed.get_json())
    token = bearer(confirmed.get_json()["access_token"])
    added = web.post("/auth/family", headers=token, json={
        "full_name": "Đặng Minh Khang", "relationship": "SON", "gender": "male",
        "birthDate": "2012-06-07"})
    _conforms(spec, "/auth/family", "post", added.status_code, added.get_json())
    token = bearer(added.get_json()["access_token"])
    member = added.get_json()["member"]
    for path, url in (("/auth/family", "/auth/family"), ("/auth/profile", "/auth/profile"),
                      ("/auth/family/{member_id}", f"/auth/family/{member}"),
                      ("/.well-known/smart-configuration", "/.well-known/smart-configuration"),
                      ("/auth/jwks.json", "/auth/jwks.json")):
        answer = web.get(url, headers=token)
        _conforms(spec, path, "get", answer.status_code, answer.get_json())


def test_document_says_fhir_endpoints_speak_xml(client: FlaskClient) -> None:
    """R4 xml.html: the document names the XML format and the `_format=xml` value, and a
    resource endpoint it lists really answers in XML."""
    spec = client.get("/openapi.json").get_json()
    assert "application/fhir+xml" in spec["info"]["description"]
    shared = spec["components"]["parameters"]
    listed = [shared[p["$ref"].rsplit("/", 1)[1]] if "$ref" in p else p
              for p in spec["paths"]["/Patient"]["get"]["parameters"]]
    formats = [p for p in listed if p.get("name") == "_format"]
    assert formats and "application/fhir+xml" in formats[0]["description"]
    answer = client.get("/Patient?_format=xml")
    assert answer.status_code == 200 and answer.mimetype == "application/fhir+xml"

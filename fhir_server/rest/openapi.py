"""OpenAPI document (flask-smorest) describing the FHIR REST API, and its local docs page.

Every documented response is what the route really sends: resources with their fixed
`resourceType`, Bundles, and OperationOutcome (application/fhir+json) for every error
(http.html#summary, operationoutcome.html). tests/api/test_schemathesis.py holds it to that.
"""

from __future__ import annotations

from typing import Any

import orjson
import swagger_ui_bundle
from flask import Flask, Response, request, send_from_directory
from flask_smorest import Api

from fhir_server import __version__
from fhir_server.model.schemas import (
    bundle_schema,
    capability_statement_schema,
    operation_outcome_schema,
    resource_json_schemas,
)
from fhir_server.resource_types import RESOURCE_TYPES
from fhir_server.rest.openapi_auth import (
    PUBLIC,
    SECURED,
    auth_paths,
    auth_schemas,
    security_schemes,
    service_paths,
    smart_paths,
)
from fhir_server.rest.openapi_search import (
    compartment_paths,
    name_operations,
    operation_paths,
    operation_responses,
    search_parameter_components,
    search_query,
)

FHIR_BODY = "application/fhir+json"
FORMATS_NOTE = ("Every FHIR endpoint (resources, searches, history, bundles, operations and "
                "their errors) also reads and writes FHIR XML, `application/fhir+xml` "
                "(R4 xml.html), chosen by `Accept` or `_format=xml`; the schemas here describe "
                "the JSON form. `/auth`, OAuth and health-card files are JSON only.")
JSON_BODY = "application/json"  # answered instead of FHIR_BODY for Accept: application/json
FORM_BODY = "application/x-www-form-urlencoded"
PATCH_BODY = "application/json-patch+json"
# datatypes.html#id, without the ids made only of dots (path segments '.' and '..')
ID_SCHEMA = {"type": "string", "minLength": 1, "maxLength": 64,
             "pattern": r"^[A-Za-z0-9\-.]*[A-Za-z0-9\-][A-Za-z0-9\-.]*$"}
ERROR_TEXT = {400: "Bad request", 401: "Authentication required", 403: "Forbidden",
              404: "Unknown or not visible", 405: "Method not allowed", 406: "Not acceptable",
              409: "Conflict", 410: "Deleted", 412: "Precondition failed",
              413: "Too large", 415: "Unsupported media type", 422: "Unprocessable entity",
              429: "Too many requests", 501: "Not implemented (transactions off)",
              503: "Database unavailable"}
COMMON = (400, 401, 403, 406, 503)
WRITE = (*COMMON, 409, 412, 413, 415, 422)
_FORM_PARAMS = {"_count": {"type": "integer"}, "_id": {"type": "string"},
                "_lastUpdated": {"type": "string"}, "_sort": {"type": "string"}}


def _ref(schema: str) -> dict[str, str]:
    return {"$ref": f"#/components/schemas/{schema}"}


def _content(schema: dict[str, Any], *media: str) -> dict[str, Any]:
    return {"content": {name: {"schema": schema} for name in media}}


def _ok(description: str, *schemas: str) -> dict[str, Any]:
    """A success response: the first schema, or (several) any of them, in both JSON types."""
    schema = _ref(schemas[0]) if len(schemas) == 1 else {"anyOf": [_ref(s) for s in schemas]}
    return {"description": description, **_content(schema, FHIR_BODY, JSON_BODY)}


def success_responses() -> dict[str, Any]:
    """Component responses: each type's resource, a write answer, Bundle, OperationOutcome."""
    shared = {"Bundle": _ok("Bundle", "Bundle"),
              "Outcome": _ok("OperationOutcome", "OperationOutcome"),
              "CapabilityStatement": _ok("CapabilityStatement", "CapabilityStatement")}
    for name in RESOURCE_TYPES:
        shared[name] = _ok(name, name)
        # the resource, or an OperationOutcome for Prefer: return=OperationOutcome
        shared[f"Written{name}"] = _ok(f"{name} (or OperationOutcome)", name, "OperationOutcome")
    return shared


def _answer(name: str) -> dict[str, str]:
    return {"$ref": f"#/components/responses/{name}"}


def _errors(*codes: int) -> dict[str, Any]:
    """References to the shared OperationOutcome responses of these statuses."""
    return {str(code): {"$ref": f"#/components/responses/Error{code}"}
            for code in sorted(set(codes))}


def error_responses() -> dict[str, Any]:
    """Component responses: each error status answers an OperationOutcome (fhir+json only)."""
    return {f"Error{code}": {"description": f"{text}: OperationOutcome",
                             **_content(_ref("OperationOutcome"), FHIR_BODY)}
            for code, text in ERROR_TEXT.items()}


def _header(name: str, description: str) -> dict[str, Any]:
    return {"name": name, "in": "header", "required": False, "description": description,
            "schema": {"type": "string"}}


def _query(name: str, schema: dict[str, Any], required: bool = False) -> dict[str, Any]:
    return {"name": name, "in": "query", "required": required, "schema": schema}


def shared_parameters() -> dict[str, Any]:
    """Component parameters used by every type: ids, If-Match, result parameters."""
    return {"id": {"name": "id", "in": "path", "required": True, "schema": ID_SCHEMA},
            "vid": {"name": "vid", "in": "path", "required": True, "schema": ID_SCHEMA},
            "If-Match": _header("If-Match", 'version-aware update: W/"<versionId>"'),
            **{name: _query(name, schema) for name, schema in _FORM_PARAMS.items()}}


def _param(name: str) -> dict[str, str]:
    return {"$ref": f"#/components/parameters/{name}"}


def _history_params() -> list[dict[str, Any]]:
    return [_param(name) for name in _FORM_PARAMS]


def _form_body() -> dict[str, Any]:
    return {"required": False, **_content(
        {"type": "object", "properties": _FORM_PARAMS}, FORM_BODY)}


def _resource_body(name: str) -> dict[str, Any]:
    return {"required": True, **_content(_ref(name), FHIR_BODY, JSON_BODY)}


def _patch_body() -> dict[str, Any]:
    operation = {"type": "object", "required": ["op", "path"], "properties": {
        "op": {"type": "string", "enum": ["add", "remove", "replace", "move", "copy", "test"]},
        "path": {"type": "string"}, "from": {"type": "string"}, "value": {}}}
    return {"required": True, **_content({"type": "array", "items": operation}, PATCH_BODY)}


def _type_paths(name: str) -> dict[str, dict[str, Any]]:
    """The type- and instance-level interactions of one resource type (http.html#summary)."""
    rid, vid, if_match = _param("id"), _param("vid"), _param("If-Match")
    tag = [name]
    bundle = {"200": _answer("Bundle")}
    written, read = _answer(f"Written{name}"), _answer(name)
    deleted = {"200": _answer("Outcome"),
               "204": {"description": "Nothing to delete (or Prefer: return=minimal)"}}
    criteria = _query("identifier", {"type": "string"}, required=True)
    return {
        f"/{name}": {
            "get": {"tags": tag, "summary": f"Search {name}", "parameters": search_query(name),
                    "responses": {**bundle, **_errors(*COMMON)}},
            "post": {"tags": tag, "summary": f"Create a {name}",
                     "parameters": [_header("If-None-Exist", "conditional create criteria")],
                     "requestBody": _resource_body(name),
                     "responses": {"200": written,
                                   "201": written, **_errors(*WRITE)}},
            "put": {"tags": tag, "summary": f"Conditional update of a {name}",
                    "parameters": [criteria, if_match], "requestBody": _resource_body(name),
                    "responses": {"200": written,
                                  "201": written, **_errors(*WRITE)}},
            "delete": {"tags": tag, "summary": f"Conditional delete of a {name}",
                       "parameters": [criteria],
                       "responses": {**deleted, **_errors(*COMMON, 404, 409, 412)}},
        },
        f"/{name}/_search": {"post": {
            "tags": tag, "summary": f"Search {name} (form body)", "requestBody": _form_body(),
            "responses": {**bundle, **_errors(*COMMON, 415)}}},
        f"/{name}/{{id}}": {
            "parameters": [rid],
            "get": {"tags": tag, "summary": f"Read a {name}",
                    "responses": {"200": read,
                                  "304": {"description": "Not modified"},
                                  **_errors(*COMMON, 404, 410)}},
            "put": {"tags": tag, "summary": f"Update (or create) a {name}",
                    "parameters": [if_match], "requestBody": _resource_body(name),
                    "responses": {"200": written,
                                  "201": written, **_errors(*WRITE, 405)}},
            "patch": {"tags": tag, "summary": f"Patch a {name} (JSON Patch)",
                      "parameters": [if_match], "requestBody": _patch_body(),
                      "responses": {"200": written,
                                    **_errors(*WRITE, 404, 410)}},
            "delete": {"tags": tag, "summary": f"Delete a {name}", "parameters": [if_match],
                       "responses": {**deleted, **_errors(*COMMON, 404, 409, 412)}},
        },
        f"/{name}/{{id}}/_history": {"parameters": [rid], "get": {
            "tags": tag, "summary": f"History of one {name}", "parameters": _history_params(),
            "responses": {**bundle, **_errors(*COMMON, 404, 410)}}},
        f"/{name}/{{id}}/_history/{{vid}}": {"parameters": [rid, vid], "get": {
            "tags": tag, "summary": f"Read one version of a {name}",
            "responses": {"200": read, "304": {"description": "Not modified"},
                          **_errors(*COMMON, 404, 410)}}},
        f"/{name}/_history": {"get": {
            "tags": tag, "summary": f"History of all {name}", "parameters": _history_params(),
            "responses": {**bundle, **_errors(*COMMON)}}},
    }


def _system_paths() -> dict[str, dict[str, Any]]:
    """Capabilities, system search and history, batch/transaction (http.html#summary)."""
    tag = ["system"]
    bundle = {"200": _answer("Bundle")}
    return {
        "/metadata": {"get": {"tags": tag, "summary": "CapabilityStatement", "security": PUBLIC,
                              "responses": {"200": _answer("CapabilityStatement"),
                                            **_errors(406)}}},
        "/_history": {"get": {"tags": tag, "summary": "History of everything",
                              "parameters": _history_params(),
                              "responses": {**bundle, **_errors(*COMMON)}}},
        "/": {
            "get": {"tags": tag, "summary": "Search all types (_type)",
                    "parameters": [*search_query(None), _query("_type", {"type": "string"})],
                    "responses": {**bundle, **_errors(*COMMON)}},
            "post": {"tags": tag, "summary": "batch or transaction Bundle",
                     "requestBody": {"required": True, **_content(
                         _ref("Bundle"), FHIR_BODY, JSON_BODY)},
                     "responses": {**bundle, **_errors(*WRITE, 404, 410, 501)}},
        },
        "/_search": {"post": {"tags": tag, "summary": "Search all types (form body)",
                              "requestBody": _form_body(),
                              "responses": {**bundle, **_errors(*COMMON, 415)}}},
    }


def fhir_json(schema: Any) -> Any:
    """The schema without pydantic's `fhir_comments` (not a FHIR JSON key)."""
    if isinstance(schema, list):
        return [fhir_json(item) for item in schema if item != "fhir_comments"]
    if not isinstance(schema, dict):
        return schema
    return {key: fhir_json(value) for key, value in schema.items() if key != "fhir_comments"}


def describe(api: Api) -> None:
    """Add our component schemas and plain path items to flask-smorest's document."""
    any_resource = {"type": "object", "required": ["resourceType"],
                    "properties": {"resourceType": {"type": "string"}}}
    schemas = {**resource_json_schemas([*RESOURCE_TYPES, "Parameters"]),
               "Bundle": bundle_schema(), "OperationOutcome": operation_outcome_schema(),
               "CapabilityStatement": capability_statement_schema()}
    for name, schema in {**fhir_json(schemas), "AnyResource": any_resource,
                         **auth_schemas()}.items():
        api.spec.components.schema(name, schema)
    for name, response in {**success_responses(), **error_responses(),
                           **operation_responses()}.items():
        api.spec.components.response(name, response)
    for name, parameter in {**shared_parameters(), **search_parameter_components()}.items():
        api.spec.components.parameter(name, parameter["in"], parameter)
    for name, scheme in security_schemes().items():
        api.spec.components.security_scheme(name, scheme)
    paths = api.spec._paths  # plain path items: our routes are not smorest views
    for name in RESOURCE_TYPES:
        paths.update(_type_paths(name))
    paths.update(_system_paths())
    paths.update(compartment_paths())
    paths.update(operation_paths())
    for extra in (auth_paths(), smart_paths(), service_paths()):
        paths.update(extra)
    name_operations(paths)


def init_openapi(app: Flask) -> Api:
    """Attach flask-smorest's OpenAPI JSON and a Swagger UI page served from local assets."""
    app.config.update(
        API_TITLE="fhir_server FHIR R4 API", API_VERSION=__version__, OPENAPI_VERSION="3.0.3",
        OPENAPI_URL_PREFIX="/", OPENAPI_JSON_PATH="openapi.json",
        OPENAPI_SWAGGER_UI_PATH="docs", OPENAPI_SWAGGER_UI_URL="/docs/assets/",
        API_SPEC_OPTIONS={"security": SECURED, "info": {"description": FORMATS_NOTE}})
    api = Api(app)
    described = {"done": False}

    @app.before_request
    def _describe_once() -> None:
        if request.path == "/openapi.json" and not described["done"]:
            describe(api)
            described["done"] = True

    body: dict[str, bytes] = {}

    def _compact_openapi_json() -> Response:
        """The document as compact JSON, serialised once (every type makes it large)."""
        if "json" not in body:
            body["json"] = orjson.dumps(api.spec.to_dict())
        return app.response_class(body["json"], mimetype=JSON_BODY)

    app.view_functions["api-docs.openapi_json"] = _compact_openapi_json

    @app.get("/docs/assets/<path:filename>")
    def _docs_assets(filename: str) -> Response:
        return send_from_directory(swagger_ui_bundle.swagger_ui_path, filename)

    return api

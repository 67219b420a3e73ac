"""OpenAPI document (flask-smorest) describing the FHIR REST API, and its local docs page."""

from __future__ import annotations

from typing import Any

import swagger_ui_bundle
from flask import Flask, Response, request, send_from_directory
from flask_smorest import Api

from fhir_server import __version__
from fhir_server.model.schemas import resource_json_schemas
from fhir_server.resource_types import RESOURCE_TYPES

FHIR_BODY = "application/fhir+json"
OUTCOME = {"description": "OperationOutcome describing the error",
           "content": {FHIR_BODY: {"schema": {"type": "object"}}}}
ERRORS = {str(code): OUTCOME for code in (400, 404, 406, 410, 412, 415, 422)}


def _body(schema: str) -> dict[str, Any]:
    return {"content": {FHIR_BODY: {"schema": {"$ref": f"#/components/schemas/{schema}"}}}}


def _ok(description: str, schema: str) -> dict[str, Any]:
    return {"description": description, **_body(schema)}


def _type_paths(name: str) -> dict[str, dict[str, Any]]:
    rid = {"name": "id", "in": "path", "required": True, "schema": {"type": "string"}}
    vid = {"name": "vid", "in": "path", "required": True, "schema": {"type": "string"}}
    tag = [name]
    bundle = {"200": {"description": "Bundle", "content": {FHIR_BODY: {"schema": {
        "type": "object"}}}}, **ERRORS}
    return {
        f"/{name}": {
            "get": {"tags": tag, "summary": f"Search {name}", "responses": bundle},
            "post": {"tags": tag, "summary": f"Create a {name}", "requestBody": _body(name),
                     "responses": {"201": _ok("Created", name), **ERRORS}},
        },
        f"/{name}/{{id}}": {
            "parameters": [rid],
            "get": {"tags": tag, "summary": f"Read a {name}",
                    "responses": {"200": _ok(name, name), **ERRORS}},
            "put": {"tags": tag, "summary": f"Update (or create) a {name}",
                    "requestBody": _body(name),
                    "responses": {"200": _ok("Updated", name), "201": _ok("Created", name),
                                  **ERRORS}},
            "patch": {"tags": tag, "summary": f"Patch a {name} (JSON Patch)",
                      "requestBody": {"content": {"application/json-patch+json": {
                          "schema": {"type": "array", "items": {"type": "object"}}}}},
                      "responses": {"200": _ok("Patched", name), **ERRORS}},
            "delete": {"tags": tag, "summary": f"Delete a {name}",
                       "responses": {"200": OUTCOME, "204": {"description": "Already deleted"},
                                     **ERRORS}},
        },
        f"/{name}/{{id}}/_history": {"parameters": [rid], "get": {
            "tags": tag, "summary": f"History of one {name}", "responses": bundle}},
        f"/{name}/{{id}}/_history/{{vid}}": {"parameters": [rid, vid], "get": {
            "tags": tag, "summary": f"Read one version of a {name}",
            "responses": {"200": _ok(name, name), **ERRORS}}},
        f"/{name}/_history": {"get": {"tags": tag, "summary": f"History of all {name}",
                                      "responses": bundle}},
    }


def init_openapi(app: Flask) -> Api:
    """Attach flask-smorest's OpenAPI JSON and a Swagger UI page served from local assets."""
    app.config.update(
        API_TITLE="fhir_server FHIR R4 API", API_VERSION=__version__, OPENAPI_VERSION="3.0.3",
        OPENAPI_URL_PREFIX="/", OPENAPI_JSON_PATH="openapi.json",
        OPENAPI_SWAGGER_UI_PATH="docs", OPENAPI_SWAGGER_UI_URL="/docs/assets/")
    api = Api(app)
    described = {"done": False}

    @app.before_request
    def _describe_once() -> None:
        if request.path == "/openapi.json" and not described["done"]:
            for name, schema in resource_json_schemas(RESOURCE_TYPES).items():
                api.spec.components.schema(name, schema)
            paths = api.spec._paths  # plain path items: our routes are not smorest views
            for name in RESOURCE_TYPES:
                paths.update(_type_paths(name))
            paths["/metadata"] = {"get": {
                "tags": ["system"], "summary": "CapabilityStatement",
                "responses": {"200": {"description": "CapabilityStatement"}}}}
            paths["/_history"] = {"get": {
                "tags": ["system"], "summary": "History of everything",
                "responses": {"200": {"description": "Bundle"}}}}
            described["done"] = True

    @app.get("/docs/assets/<path:filename>")
    def _docs_assets(filename: str) -> Response:
        return send_from_directory(swagger_ui_bundle.swagger_ui_path, filename)

    return api

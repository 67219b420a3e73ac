"""Routes for type- and instance-level interactions: parse, call the interaction, format."""

from __future__ import annotations

from flask import Blueprint, Response, request
from werkzeug.routing import BaseConverter

from fhir_server.errors import MethodNotAllowed
from fhir_server.interactions import crud
from fhir_server.interactions.context import Services, parse_etag
from fhir_server.interactions.history import history
from fhir_server.interactions.search import search_type
from fhir_server.rest.context import carries, request_services
from fhir_server.rest.negotiation import query_params, read_json_body, response_mimetype
from fhir_server.rest.responses import (
    json_response,
    outcome_response,
    resource_response,
    version_headers,
    write_response,
)
from fhir_server.search.shaping import Shaping, read_shaping, shaped
from fhir_server.storage.base import StoredVersion

resources = Blueprint("fhir_resources", __name__)
TYPE_LEVEL_ALLOW = {"Allow": "GET, HEAD, POST"}


class TypeName(BaseConverter):
    """A resource type segment: FHIR type names start upper case, so /metadata, /healthz,
    /token... never reach these routes (other methods on them get 405, not a type's route)."""

    regex = "[A-Z][A-Za-z0-9]{0,63}"


class ResourceId(BaseConverter):
    """An id segment: never _history, _search or $operation (each has its own routes, which
    answer 405 with Allow for a method they lack); other bad ids get a 400 from check_id."""

    regex = "[^/_$][^/]*"


resources.record_once(lambda state: state.app.url_map.converters.update(
    fhirtype=TypeName, fhirid=ResourceId))


def services() -> Services:
    """The interaction services acting for this request's caller."""
    return request_services()


def _criteria() -> str:
    return request.query_string.decode("utf-8", "replace")


@resources.before_request
def _negotiate() -> None:
    response_mimetype(request)  # 406 before any work is done


@resources.get("/<fhirtype:type_name>")
@carries("search-type")
def search(type_name: str) -> Response:
    """search-type: GET [base]/[type]?params."""
    strict = "handling=strict" in request.headers.get("Prefer", "").replace(" ", "").lower()
    return json_response(request, search_type(services(), type_name, query_params(request),
                                              strict))


@resources.post("/<fhirtype:type_name>")
@carries("create")
def create(type_name: str) -> Response:
    """create: POST [base]/[type] (If-None-Exist for conditional create)."""
    svc = services()
    result = crud.create(svc, type_name, read_json_body(request),
                         request.headers.get("If-None-Exist"))
    return write_response(request, result, svc.settings.base_url)


def _need_criteria(method: str) -> None:
    """PUT/DELETE on [base]/[type] exist only as conditional interactions (http.html#cond-update,
    #3.1.0.7.1): without criteria the type URL offers GET and POST (405 + Allow)."""
    if not query_params(request):
        error = MethodNotAllowed(f"{method} [base]/{request.path.strip('/')[:60]} needs search "
                                 "criteria (a conditional update or delete); the type URL "
                                 "allows GET, HEAD, POST")
        error.headers = dict(TYPE_LEVEL_ALLOW)
        raise error


@resources.put("/<fhirtype:type_name>")
@carries("update")
def conditional_update(type_name: str) -> Response:
    """conditional update: PUT [base]/[type]?criteria."""
    _need_criteria("PUT")
    svc = services()
    result = crud.conditional_update(svc, type_name, _criteria(), read_json_body(request),
                                     parse_etag(request.headers.get("If-Match")))
    return write_response(request, result, svc.settings.base_url)


@resources.delete("/<fhirtype:type_name>")
@carries("delete")
def conditional_delete(type_name: str) -> Response:
    """conditional delete: DELETE [base]/[type]?criteria."""
    _need_criteria("DELETE")
    svc = services()
    tombstone = crud.conditional_delete(svc, type_name, _criteria())
    return outcome_response(request, f"Deleted {type_name}/{tombstone.id}", 200,
                            {"ETag": tombstone.etag})


def _shaped_response(version: StoredVersion, shaping: Shaping, base_url: str) -> Response:
    """A read answer trimmed as _summary/_elements ask (search.html#summary, #elements)."""
    body = shaped(version.resource, shaping) if version.resource is not None else None
    return resource_response(request, version, base_url, body)


@resources.get("/<fhirtype:type_name>/<fhirid:resource_id>")
@carries("read")
def read(type_name: str, resource_id: str) -> Response:
    """read: GET [base]/[type]/[id] (HEAD too)."""
    svc = services()
    shaping = read_shaping(type_name, query_params(request))  # 400 before the read
    version = crud.read(svc, type_name, resource_id)
    return _shaped_response(version, shaping, svc.settings.base_url)


@resources.put("/<fhirtype:type_name>/<fhirid:resource_id>")
@carries("update")
def update(type_name: str, resource_id: str) -> Response:
    """update: PUT [base]/[type]/[id] (If-Match for a versioned update)."""
    svc = services()
    result = crud.update(svc, type_name, resource_id, read_json_body(request),
                         parse_etag(request.headers.get("If-Match")))
    return write_response(request, result, svc.settings.base_url)


@resources.patch("/<fhirtype:type_name>/<fhirid:resource_id>")
@carries("patch")
def patch(type_name: str, resource_id: str) -> Response:
    """patch: PATCH [base]/[type]/[id] with a JSON Patch body."""
    svc = services()
    result = crud.patch(svc, type_name, resource_id, read_json_body(request, patch=True),
                        parse_etag(request.headers.get("If-Match")))
    return write_response(request, result, svc.settings.base_url)


@resources.delete("/<fhirtype:type_name>/<fhirid:resource_id>")
@carries("delete")
def delete(type_name: str, resource_id: str) -> Response:
    """delete: DELETE [base]/[type]/[id]."""
    svc = services()
    tombstone = crud.delete(svc, type_name, resource_id,
                            parse_etag(request.headers.get("If-Match")))
    if tombstone is None:
        return Response(status=204)
    return outcome_response(request, f"Deleted {type_name}/{resource_id}", 200,
                            {"ETag": tombstone.etag})


@resources.get("/<fhirtype:type_name>/<fhirid:resource_id>/_history/<version_id>")
@carries("vread")
def vread(type_name: str, resource_id: str, version_id: str) -> Response:
    """vread: GET [base]/[type]/[id]/_history/[vid]."""
    svc = services()
    shaping = read_shaping(type_name, query_params(request))
    version = crud.vread(svc, type_name, resource_id, version_id)
    return _shaped_response(version, shaping, svc.settings.base_url)


@resources.get("/<fhirtype:type_name>/<fhirid:resource_id>/_history")
@carries("history-instance")
def instance_history(type_name: str, resource_id: str) -> Response:
    """history-instance: GET [base]/[type]/[id]/_history."""
    return json_response(request, history(services(), type_name, resource_id,
                                          query_params(request)))


@resources.get("/<fhirtype:type_name>/_history")
@carries("history-type")
def type_history(type_name: str) -> Response:
    """history-type: GET [base]/[type]/_history."""
    return json_response(request, history(services(), type_name, None, query_params(request)))


@resources.get("/_history")
@carries("history-system")
def system_history() -> Response:
    """history-system: GET [base]/_history."""
    return json_response(request, history(services(), None, None, query_params(request)))


__all__ = ["resources", "version_headers"]

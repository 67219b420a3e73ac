"""Search routes (http.html#search): POST [base]/[type]/_search, system search on [base],
and compartment search [base]/[compartment]/[id]/[type] for the five R4 compartments (Patient,
Encounter, RelatedPerson, Practitioner, Device). GET [base]/[type] lives in resources.py."""

from __future__ import annotations

from collections.abc import Callable

from flask import Blueprint, Response, request

from fhir_server.errors import UnsupportedMediaType
from fhir_server.interactions.context import Services
from fhir_server.interactions.search import search_compartment, search_system, search_type
from fhir_server.rest.context import carries, request_services
from fhir_server.rest.negotiation import parse_prefer, query_params, response_mimetype
from fhir_server.rest.responses import json_response
from fhir_server.spec import compartments

search = Blueprint("fhir_search", __name__)
FORM = "application/x-www-form-urlencoded"


def _members(compartment: str) -> str:
    """The route converter's list of the types in a compartment (its own type included)."""
    return ", ".join(sorted({*compartments()[compartment], compartment}))


def services() -> Services:
    """The interaction services acting for this request's caller."""
    return request_services()


def strict() -> bool:
    """True when the client asked for Prefer: handling=strict (search.html#errors)."""
    return parse_prefer(request).get("handling") == "strict"


def form_params() -> list[tuple[str, str]]:
    """Query parameters followed by the form body of a POST search (415 for other bodies)."""
    media = request.mimetype
    if request.content_length and media != FORM:
        raise UnsupportedMediaType(f"A POST search needs Content-Type {FORM}, not "
                                   f"'{media[:60]}'")
    body = [(n, v) for n, v in request.form.items(multi=True) if n not in ("_format", "_pretty")]
    return query_params(request) + body


@search.before_request
def _negotiate() -> None:
    response_mimetype(request)  # 406 before any work is done


@search.post("/<type_name>/_search")
@carries("search-type")
def search_post(type_name: str) -> Response:
    """search-type: POST [base]/[type]/_search with a form body."""
    return json_response(request, search_type(services(), type_name, form_params(), strict()))


@search.get("/")
@carries("search-system")
def system_get() -> Response:
    """search-system: GET [base]?_type=...&params."""
    return json_response(request, search_system(services(), query_params(request), strict()))


@search.post("/_search")
@carries("search-system")
def system_post() -> Response:
    """search-system: POST [base]/_search with a form body."""
    return json_response(request, search_system(services(), form_params(), strict()))


def _compartment_get(compartment: str) -> Callable[[str, str], Response]:
    def compartment_get(id_: str, type_name: str) -> Response:
        """Compartment search: GET [base]/[compartment]/[id]/[type]?params."""
        return json_response(request, search_compartment(
            services(), id_, type_name, query_params(request), strict(), compartment))
    return compartment_get


def _compartment_post(compartment: str) -> Callable[[str, str], Response]:
    def compartment_post(id_: str, type_name: str) -> Response:
        """Compartment search: POST [base]/[compartment]/[id]/[type]/_search (form body)."""
        return json_response(request, search_compartment(
            services(), id_, type_name, form_params(), strict(), compartment))
    return compartment_post


for _compartment in sorted(compartments()):
    _path = f"/{_compartment}/<id_>/<any({_members(_compartment)}):type_name>"
    search.add_url_rule(_path, f"compartment_get_{_compartment}",
                        carries("search-type")(_compartment_get(_compartment)), methods=["GET"])
    search.add_url_rule(f"{_path}/_search", f"compartment_post_{_compartment}",
                        carries("search-type")(_compartment_post(_compartment)),
                        methods=["POST"])

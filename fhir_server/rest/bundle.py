"""POST [base]: the batch and transaction interactions (FHIR R4 http.html#transaction).

GET [base] (system search) belongs to the search blueprint; this one only takes POST.
"""

from __future__ import annotations

from flask import Blueprint, Response, request

from fhir_server.interactions.bundle_process import process_bundle
from fhir_server.rest.context import carries, request_services
from fhir_server.rest.negotiation import parse_prefer, read_json_body, response_mimetype
from fhir_server.rest.responses import json_response

bundle = Blueprint("fhir_bundle", __name__)


@bundle.post("/")
@carries("batch")
def batch_or_transaction() -> Response:
    """batch / transaction: POST [base] with a Bundle of type batch or transaction."""
    response_mimetype(request)  # 406 before any work is done
    svc = request_services()
    body = read_json_body(request)
    return json_response(request, process_bundle(svc, body, parse_prefer(request).get("return")))

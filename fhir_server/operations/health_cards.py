"""$health-cards-issue (Patient instance) and $verify-health-card (system).

SMART Health Cards IG, "FHIR API": POST [base]/Patient/:id/$health-cards-issue with a Parameters
input (credentialType 1..*, credentialValueSet, includeIdentityClaim, _since) answering a
Parameters with one verifiableCredential per card and resourceLink entries. Issue 12, point 9:
cards are issued only from verified identity data (health_cards/identity.py: 422 otherwise);
POST [base]/Patient/:id/$verify-identity is how a vaccination site or hospital records that it
checked the Patient's identity papers (staff practitioner/admin, system clients).
"""

from __future__ import annotations

import base64
import binascii
from datetime import UTC, datetime
from typing import Any

from fhir_server.auth.compartment import compartment_term
from fhir_server.errors import Forbidden, InvalidRequest, NotFound
from fhir_server.fhirdates import parse_instant
from fhir_server.health_cards.identity import mark_verified, may_verify
from fhir_server.health_cards.issue import IssuedCard, wants_immunizations
from fhir_server.health_cards.service import HealthCardService, card_id
from fhir_server.health_cards.verify import VerifyOptions
from fhir_server.interactions import crud
from fhir_server.interactions.context import Services
from fhir_server.model.jsonio import dumps
from fhir_server.operations.registry import OperationCall, OperationResult, operation
from fhir_server.operations.verification import verification_parameters
from fhir_server.search.criteria import of


def card_service(svc: Services) -> HealthCardService:
    """The health-card service of this app."""
    service = svc.components.get("health_cards")
    if service is None:
        raise NotFound("Health cards are not enabled on this server")
    return service


def patient_immunizations(svc: Services, patient_id: str) -> list[dict[str, Any]]:
    """The patient's current Immunization resources (via the indexed compartment keys)."""
    return [version.resource for version in svc.store.find(
        "Immunization", of(compartment_term("Immunization", [patient_id]))) if version.resource]


def _resource_links(svc: Services, patient_id: str, cards: list[IssuedCard]
                    ) -> list[dict[str, Any]]:
    links: list[dict[str, Any]] = []
    base = svc.settings.base_url
    for index, card in enumerate(cards):
        hosted = [f"{base}/Patient/{patient_id}"] + [
            f"{base}/Immunization/{dose}" for dose in card.carried]
        for number, url in enumerate(hosted):
            links.append({"name": "resourceLink", "part": [
                {"name": "vcIndex", "valueInteger": index},
                {"name": "bundledResource", "valueUri": f"resource:{number}"},
                {"name": "hostedResource", "valueUri": url}]})
    return links


def card_urls(base: str, card: IssuedCard) -> dict[str, str]:
    """The download URLs of an issued card: QR PNG and SVG, shc:/ text, .smart-health-card."""
    stem = f"{base}/health-cards/{card_id(card.jws)}"
    return {"qrPng": f"{stem}.png", "qrSvg": f"{stem}.svg", "shcText": f"{stem}.txt",
            "download": f"{stem}.smart-health-card"}


def _app_cards(svc: Services, cards: list[IssuedCard], development: bool,
               issuer: str) -> list[dict[str, Any]]:
    """One `healthCard` parameter per card for the app (ignored by other SHC clients)."""
    found = []
    for index, card in enumerate(cards):
        urls = card_urls(svc.settings.base_url, card)
        found.append({"name": "healthCard", "part": [
            {"name": "vcIndex", "valueInteger": index},
            {"name": "id", "valueString": card_id(card.jws)},
            *({"name": name, "valueUrl": url} for name, url in urls.items()),
            {"name": "shc", "valueString": card.numeric},
            {"name": "doses", "valueInteger": card.doses},
            {"name": "issuer", "valueUri": issuer},
            {"name": "issuerMode", "valueCode": "development" if development
             else "production"}]})
    return found


def development_outcome(issuer: str) -> dict[str, Any]:
    """The warning a development server's cards come with (http issuer, not verifiable)."""
    return {"resourceType": "OperationOutcome", "issue": [{
        "severity": "warning", "code": "business-rule",
        "diagnostics": f"Development mode: the issuer {issuer} is not https, so these cards "
                       "are for testing only and no verifier outside this server will accept "
                       "them (set FHIR_BASE_URL to the public https URL and FHIR_ENV=production)"}]}


@operation("health-cards-issue", instance=True, types=("Patient",), methods=("POST",),
           access="instance-read",
           definition="https://smarthealth.cards/OperationDefinition/patient-i-health-cards-issue",
           documentation="Issue SMART Health Cards (ES256 JWS) for the patient's doses; "
                         "healthCard parameters carry the QR, shc:/ and file URLs")
def health_cards_issue(svc: Services, call: OperationCall) -> OperationResult:
    """Sign the patient's completed immunizations into SMART Health Cards."""
    patient_id = str(call.resource_id)
    patient = crud.read(svc, "Patient", patient_id).resource or {}
    types = [str(value) for name, value in call.parameters() if name == "credentialType"]
    if not types:
        raise InvalidRequest.at("credentialType is required (1..*)", "credentialType",
                                "required")
    if not wants_immunizations(types):
        return OperationResult({"resourceType": "Parameters"})
    since = call.first("_since")
    immunizations = patient_immunizations(svc, patient_id)
    if since:
        moment = parse_instant(str(since), "_since")
        immunizations = [imm for imm in immunizations
                         if parse_instant(imm["meta"]["lastUpdated"]) >= moment]
    service = card_service(svc)
    cards = service.issue(patient, immunizations)
    parameters: list[dict[str, Any]] = [{"name": "verifiableCredential", "valueString": card.jws}
                                        for card in cards]
    parameters += _resource_links(svc, patient_id, cards)
    parameters += _app_cards(svc, cards, service.development, service.issuer)
    if service.development:
        parameters.append({"name": "outcome", "resource": development_outcome(service.issuer)})
    links = ", ".join(f'<{card_urls(svc.settings.base_url, card)["qrPng"]}>; '
                      f'rel="qr"; type="image/png"' for card in cards)
    return OperationResult({"resourceType": "Parameters", "parameter": parameters},
                           headers={"Link": links})


@operation("verify-identity", instance=True, types=("Patient",), methods=("POST",),
           affects_state=True,
           documentation="Record that a vaccination site or hospital verified the Patient's "
                         "identity (name, birthDate, identifier) as currently stored")
def verify_identity(svc: Services, call: OperationCall) -> OperationResult:
    """Mark the Patient's current identity fields verified by the caller (staff, system)."""
    caller = svc.caller
    if not may_verify(caller.kind, caller.roles if caller.kind == "staff" else None):
        raise Forbidden("Only a vaccination site or hospital (practitioner, administrator or "
                        "system client) can verify a Patient's identity")
    patient_id = str(call.resource_id)
    current = crud.read(svc, "Patient", patient_id)
    site = call.first("site")
    if isinstance(site, dict):
        site = site.get("reference")
    if site is not None and not (isinstance(site, str)
                                 and site.split("/")[0] in ("Location", "Organization")):
        raise InvalidRequest.at("site is a reference to a Location or Organization", "site",
                                "value")
    marked = mark_verified(current.resource or {}, caller.reference, datetime.now(UTC),
                           site=site)
    version, _ = svc.store.update("Patient", patient_id, marked, current.version)
    return OperationResult(version.resource or marked)


def _parameters_input(parameters: dict[str, Any]) -> bytes | str | None:
    for parameter in parameters.get("parameter", []):
        if parameter.get("name") == "image" and "valueBase64Binary" in parameter:
            try:
                return base64.b64decode(parameter["valueBase64Binary"], validate=True)
            except (ValueError, binascii.Error):
                raise InvalidRequest.at("image is not valid base64", "image", "value") from None
        if parameter.get("name") in ("data", "verifiableCredential"):
            value = parameter.get("valueString")
            return str(value) if value is not None else None
    return None


@operation("verify-health-card", system=True, methods=("POST",), access="public",
           documentation="Verify a SMART Health Card given as shc:/ text, JWS, "
                         ".smart-health-card file or QR image")
def verify_health_card(svc: Services, call: OperationCall) -> OperationResult:
    """Decode and check a card; the verdict and reasons come back as Parameters."""
    data: Any = call.body
    if isinstance(data, dict):  # Parameters, or a .smart-health-card file sent as JSON
        is_parameters = data.get("resourceType") == "Parameters"
        data = _parameters_input(data) if is_parameters else dumps(data)
    if data is None or data in (b"", ""):
        raise InvalidRequest("Send the card as the request body (shc:/ text, a JWS, a "
                             ".smart-health-card file or a QR image)", code="required")
    service = card_service(svc)
    lenient = str(call.first("lenient", "false")).lower() == "true"
    result = service.verify(data, VerifyOptions(strict=not lenient))
    return OperationResult(verification_parameters(result))

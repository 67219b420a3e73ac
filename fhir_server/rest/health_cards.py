"""Health-card downloads (QR PNG/SVG, shc:/ text, .smart-health-card file) and issuer keys."""

from __future__ import annotations

from flask import Blueprint, Response, current_app

from fhir_server.errors import Gone, NotFound
from fhir_server.health_cards.encoding import jws_to_numeric
from fhir_server.health_cards.errors import KeyStoreError
from fhir_server.health_cards.issue import MEDIA_TYPE, health_card_file
from fhir_server.health_cards.qr import render_png, render_svg
from fhir_server.health_cards.service import HealthCardService
from fhir_server.interactions import crud
from fhir_server.model.jsonio import dumps
from fhir_server.rest.context import carries, request_services

health_cards = Blueprint("fhir_health_cards", __name__)
CORS = {"Access-Control-Allow-Origin": "*"}


def _service() -> HealthCardService:
    service = current_app.extensions["fhir"].components.get("health_cards")
    if service is None:
        raise NotFound("Health cards are not enabled on this server")
    return service


@health_cards.get("/health-cards/<card_id>.<kind>")
@carries("read")
def card(card_id: str, kind: str) -> Response:
    """An issued card as QR PNG/SVG, shc:/ text or .smart-health-card file (410 if revoked)."""
    stored = _service().stored(card_id) if len(card_id) == 64 else None
    if stored is None:
        raise NotFound("No such health card")
    crud.read(request_services(), "Patient", stored.patient_id)  # access check
    if stored.revoked is not None:
        raise Gone(f"This health card was revoked on {stored.revoked.date().isoformat()}: a dose "
                   "it carried was voided. Ask for a new card ($health-cards-issue)")
    if kind == "png":
        return Response(render_png(stored.jws), content_type="image/png")
    if kind == "svg":
        return Response(render_svg(stored.jws), content_type="image/svg+xml")
    if kind == "txt":
        return Response(jws_to_numeric(stored.jws), content_type="text/plain; charset=utf-8")
    if kind == "smart-health-card":
        return Response(health_card_file([stored.jws]), content_type=MEDIA_TYPE, headers={
            "Content-Disposition": f'attachment; filename="{card_id[:16]}.smart-health-card"'})
    raise NotFound(f"Unknown card format '{kind[:20]}': use png, svg, txt or smart-health-card")


@health_cards.get("/.well-known/jwks.json")
def jwks() -> Response:
    """The issuer's public keys, current and retired (CORS *)."""
    return Response(dumps(_service().keys.public_jwks()), content_type="application/json",
                    headers=CORS)


@health_cards.get("/.well-known/crl/<kid>.json")
def crl(kid: str) -> Response:
    """The revocation list of one key (SMART Health Cards, "Revocation")."""
    try:
        document = _service().keys.crl(kid)
    except KeyStoreError:
        raise NotFound(f"No key {kid[:60]}") from None
    return Response(dumps(document), content_type="application/json", headers=CORS)

"""Issuance: patient + immunizations -> one or more signed cards, and the outputs built from them.

The chain (each step has its inverse elsewhere): select_resources -> build_bundle (minimise) ->
build_claims -> to_json (minified) -> deflate (raw) -> SigningKey.sign (ES256 compact JWS) ->
jws_to_numeric -> make_qr / render_png / render_svg. A card whose JWS would exceed 1195
characters (one V22 QR at EC level L) is split into several cards, doses kept in date order;
chunked QR codes are never produced (deprecated since SHC 1.3).

Issue 12, point 9: a card is issued only from verified identity data (identity.py): an
unverified Patient, or one changed since it was verified, raises UnverifiedIdentity (422), and
the card's Patient is built from the verified fields only.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from fhir_server.health_cards.claims import build_claims
from fhir_server.health_cards.encoding import (
    MAX_SINGLE_JWS,
    b64url_encode,
    deflate,
    from_json,
    inflate,
    jws_to_numeric,
    to_json,
)
from fhir_server.health_cards.errors import CardDecodeError, CardTooLarge
from fhir_server.health_cards.identity import verified_identity
from fhir_server.health_cards.jws import card_header, split_jws
from fhir_server.health_cards.keys import KeyStore, SigningKey
from fhir_server.health_cards.minimise import DisplayLookup, build_bundle, select_resources
from fhir_server.health_cards.qr import render_png, render_svg

MEDIA_TYPE = "application/smart-health-card"
FILE_EXTENSION = ".smart-health-card"
_SIGNATURE_CHARS = 86  # 64 bytes of r||s in base64url


@dataclass(frozen=True)
class IssuedCard:
    """One signed card: its JWS and what it carries."""

    jws: str
    kid: str
    rid: str | None
    doses: int
    carried: tuple[str, ...] = ()  # ids of the Immunizations on the card, in card order

    @property
    def numeric(self) -> str:
        """The `shc:/` numeric string a QR code carries."""
        return jws_to_numeric(self.jws)

    def png(self, scale: int = 4) -> bytes:
        """The QR code as PNG (cached by JWS hash)."""
        return render_png(self.jws, scale)

    def svg(self, scale: int = 4) -> bytes:
        """The QR code as SVG (cached by JWS hash)."""
        return render_svg(self.jws, scale)


def encode_card(claims: Mapping[str, Any], key: SigningKey) -> str:
    """Claims -> minified JSON -> raw DEFLATE -> compact JWS."""
    return key.sign(deflate(to_json(claims)))


def decode_card(jws: str) -> tuple[dict[str, Any], Any]:
    """Inverse of encode_card WITHOUT checking the signature: (header, claims)."""
    parts = split_jws(jws)
    return parts.header, from_json(inflate(parts.payload))


def jws_length(payload: bytes, kid: str) -> int:
    """Length of the compact JWS that would carry this (deflated) payload."""
    header = len(b64url_encode(to_json(card_header(kid))))
    return header + 1 + (len(payload) * 4 + 2) // 3 + 1 + _SIGNATURE_CHARS


def issue_cards(patient: Mapping[str, Any], immunizations: Iterable[Mapping[str, Any]], *,
                iss: str, keys: KeyStore, now: float, exp: float | None = None,
                lookup_display: DisplayLookup | None = None, legacy_types: bool = True,
                with_rid: bool = True, rid_subject: str | None = None,
                development: bool = False) -> list[IssuedCard]:
    """Sign the patient's completed immunizations (verified identity only) into single-QR cards.

    The rid is the spec's HMAC of the patient id (every card of the patient shares it), or,
    with `rid_subject`, of `<rid_subject>.<n>` for the n-th card: one rid per card, so a card
    can be revoked alone (a voided dose revokes the cards that carried it, not the others).
    `development` signs for an http issuer (a development server; verifiers will not trust it).
    """
    chosen = select_resources(dict(patient), [dict(i) for i in immunizations])
    person = {"resourceType": "Patient", "id": patient.get("id"), **verified_identity(patient)}
    signing = keys.active_signing_key()

    def rid_of(number: int) -> str | None:
        if not with_rid:
            return None
        subject = str(person.get("id")) if rid_subject is None else f"{rid_subject}.{number}"
        return keys.rid_for(subject, signing.kid)

    def payload(group: Sequence[dict[str, Any]], number: int) -> bytes:
        bundle = build_bundle(person, group, lookup_display)
        claims = build_claims(bundle, iss, now, exp=exp, rid=rid_of(number),
                              legacy_types=legacy_types, development=development)
        return deflate(to_json(claims))

    def fits(data: bytes) -> bool:
        return jws_length(data, signing.kid) <= MAX_SINGLE_JWS

    def card(packed: bytes, group: Sequence[dict[str, Any]], number: int) -> IssuedCard:
        return IssuedCard(signing.sign(packed), signing.kid, rid_of(number), len(group),
                          tuple(str(imm.get("id")) for imm in group if imm.get("id")))

    whole = payload(chosen, 0)
    if fits(whole):
        return [card(whole, chosen, 0)]
    cards: list[IssuedCard] = []
    group: list[dict[str, Any]] = []
    packed = b""
    for imm in chosen:
        candidate = payload([*group, imm], len(cards))
        if fits(candidate):
            group, packed = [*group, imm], candidate
            continue
        if not group:
            raise CardTooLarge("one immunization alone does not fit in a single QR code "
                               f"(JWS > {MAX_SINGLE_JWS} characters)")
        cards.append(card(packed, group, len(cards)))
        group, packed = [imm], payload([imm], len(cards))
        if not fits(packed):
            raise CardTooLarge("one immunization alone does not fit in a single QR code "
                               f"(JWS > {MAX_SINGLE_JWS} characters)")
    cards.append(card(packed, group, len(cards)))
    return cards


def health_card_file(jws_list: Iterable[str]) -> bytes:
    """The `.smart-health-card` file: {"verifiableCredential": [JWS, ...]} (application/...)."""
    return to_json({"verifiableCredential": list(jws_list)})


def parse_health_card_file(data: bytes | str) -> list[str]:
    """Inverse of health_card_file: the JWS strings of a `.smart-health-card` file."""
    doc = from_json(data)
    vcs = doc.get("verifiableCredential") if isinstance(doc, dict) else None
    if not isinstance(vcs, list) or not vcs or not all(isinstance(v, str) for v in vcs):
        raise CardDecodeError("a .smart-health-card file is {\"verifiableCredential\": "
                              "[JWS, ...]} with at least one JWS string")
    return vcs


def issue_parameters(cards: Iterable[IssuedCard]) -> dict[str, Any]:
    """The Parameters resource answered by Patient/$health-cards-issue."""
    return {"resourceType": "Parameters",
            "parameter": [{"name": "verifiableCredential", "valueString": card.jws}
                          for card in cards]}


def parameters_credentials(parameters: Mapping[str, Any]) -> list[str]:
    """Inverse of issue_parameters: the JWS strings of a $health-cards-issue response."""
    found = [p.get("valueString") for p in parameters.get("parameter") or []
             if isinstance(p, Mapping) and p.get("name") == "verifiableCredential"]
    if not found or not all(isinstance(v, str) for v in found):
        raise CardDecodeError("the Parameters resource has no verifiableCredential valueString")
    return [str(v) for v in found]


def wants_immunizations(credential_types: Iterable[str]) -> bool:
    """True if $health-cards-issue credentialType values ask for immunization cards."""
    accepted = {"Immunization", "https://smarthealth.cards#health-card",
                "https://smarthealth.cards#immunization", "https://smarthealth.cards#covid19"}
    types = list(credential_types)
    return not types or any(t in accepted for t in types)


"""SMART Health Cards: issue, render and verify verifiable vaccination records.

The chain, each step a small pure function with its inverse (or its checker):

    select_resources(patient, imms)      -> completed immunizations   (minimise.py)
    build_bundle(patient, imms)          <-> bundle_resources(bundle)  (minimise.py)
    build_claims(bundle, iss, now, ...)  <-> claims_bundle(claims)     (claims.py)
    to_json(claims)                      <-> from_json(bytes)          (encoding.py)
    deflate(bytes)                       <-> inflate(bytes)            (encoding.py)
    SigningKey.sign(payload) / sign_jws  <-> split_jws + verify_signature (jws.py)
    jws_to_numeric(jws)                  <-> numeric_to_jws(text)      (encoding.py)
    make_qr / render_png / render_svg    <-> decode_qr_image(bytes)    (qr.py)
    health_card_file(jws_list)           <-> parse_health_card_file    (issue.py)

issue_cards() runs the chain for one patient (splitting into several single-QR cards when
needed); verify() takes any input (image, shc:/ text, JWS, file) and returns a typed
VerificationResult. KeyStore keeps the issuer keys and CRLs; TrustedIssuers the keys of the
issuers we accept. Nothing here imports Flask.
"""

from fhir_server.health_cards.claims import build_claims, check_claims, claims_bundle
from fhir_server.health_cards.encoding import (
    deflate,
    from_json,
    inflate,
    jws_to_numeric,
    numeric_to_jws,
    to_json,
)
from fhir_server.health_cards.errors import (
    CardDecodeError,
    CardTooLarge,
    CrlError,
    KeySetError,
    KeyStoreError,
    NoCompletedImmunization,
)
from fhir_server.health_cards.inputs import verify, verify_images, verify_qr_texts
from fhir_server.health_cards.issue import (
    FILE_EXTENSION,
    MEDIA_TYPE,
    IssuedCard,
    decode_card,
    encode_card,
    health_card_file,
    issue_cards,
    issue_parameters,
    parse_health_card_file,
)
from fhir_server.health_cards.keys import KeyInfo, KeyStore, SigningKey
from fhir_server.health_cards.minimise import build_bundle, bundle_resources, select_resources
from fhir_server.health_cards.qr import (
    QrImageCache,
    decode_qr_image,
    make_qr,
    render_png,
    render_svg,
)
from fhir_server.health_cards.result import CardResult, Dose, Subject, VerificationResult
from fhir_server.health_cards.trust import TrustedIssuers
from fhir_server.health_cards.verify import VerifyOptions, verify_jws

__all__ = [
    "FILE_EXTENSION", "MEDIA_TYPE", "CardDecodeError", "CardResult", "CardTooLarge", "CrlError",
    "Dose", "IssuedCard", "KeyInfo", "KeySetError", "KeyStore", "KeyStoreError",
    "NoCompletedImmunization", "QrImageCache", "SigningKey", "Subject", "TrustedIssuers",
    "VerificationResult", "VerifyOptions", "build_bundle", "build_claims", "bundle_resources",
    "check_claims", "claims_bundle", "decode_card", "decode_qr_image", "deflate", "encode_card",
    "from_json", "health_card_file", "inflate", "issue_cards", "issue_parameters",
    "jws_to_numeric", "make_qr", "numeric_to_jws", "parse_health_card_file", "render_png",
    "render_svg", "select_resources", "to_json", "verify", "verify_images", "verify_jws",
    "verify_qr_texts",
]

"""Compact JWS with ES256 (P-256, SHA-256, raw r||s signature) and the `zip: DEF` header.

Spec: SMART Health Cards "Health Cards are Compact" (header alg ES256, zip DEF, kid = RFC 7638
thumbprint; payload raw-DEFLATEd before signing) and RFC 7515 appendix A.3 (the signature is the
64-byte concatenation r || s, not DER).
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.asymmetric.utils import (
    decode_dss_signature,
    encode_dss_signature,
)

from fhir_server.health_cards.encoding import b64url_decode, b64url_encode, from_json, to_json
from fhir_server.health_cards.errors import CardDecodeError

_ECDSA = ec.ECDSA(hashes.SHA256())


def thumbprint(jwk: Mapping[str, Any]) -> str:
    """RFC 7638 SHA-256 thumbprint of an EC public JWK, base64url (the spec's kid)."""
    required = {k: jwk[k] for k in ("crv", "kty", "x", "y")}
    return b64url_encode(hashlib.sha256(to_json(dict(sorted(required.items())))).digest())


def public_key_from_jwk(jwk: Mapping[str, Any]) -> ec.EllipticCurvePublicKey:
    """The P-256 public key of a JWK (raises ValueError if it is not a valid P-256 point)."""
    if jwk.get("kty") != "EC" or jwk.get("crv") != "P-256":
        raise ValueError("not an EC P-256 key")
    x, y = b64url_decode(str(jwk.get("x", ""))), b64url_decode(str(jwk.get("y", "")))
    if len(x) != 32 or len(y) != 32:
        raise ValueError("x and y must be 32 bytes each")
    numbers = ec.EllipticCurvePublicNumbers(int.from_bytes(x, "big"), int.from_bytes(y, "big"),
                                            ec.SECP256R1())
    return numbers.public_key()


def jwk_from_public_key(key: ec.EllipticCurvePublicKey) -> dict[str, str]:
    """Inverse of public_key_from_jwk: kty, crv, x, y of a P-256 public key."""
    numbers = key.public_numbers()
    return {"kty": "EC", "crv": "P-256",
            "x": b64url_encode(numbers.x.to_bytes(32, "big")),
            "y": b64url_encode(numbers.y.to_bytes(32, "big"))}


def card_header(kid: str) -> dict[str, str]:
    """The protected header of a card: zip DEF, alg ES256, kid."""
    return {"zip": "DEF", "alg": "ES256", "kid": kid}


def sign_jws(payload: bytes, key: ec.EllipticCurvePrivateKey, kid: str) -> str:
    """Compact JWS over payload (already raw-DEFLATEd) with the card header."""
    signing_input = (b64url_encode(to_json(card_header(kid))) + "." + b64url_encode(payload))
    der = key.sign(signing_input.encode("ascii"), _ECDSA)
    r, s = decode_dss_signature(der)
    return signing_input + "." + b64url_encode(r.to_bytes(32, "big") + s.to_bytes(32, "big"))


@dataclass(frozen=True)
class JwsParts:
    """A compact JWS taken apart: decoded header, raw payload bytes and signature bytes."""

    header: dict[str, Any]
    payload: bytes
    signature: bytes
    signing_input: bytes


def split_jws(jws: str) -> JwsParts:
    """Inverse of sign_jws's framing: three base64url parts, a JSON-object header."""
    parts = jws.split(".")
    if len(parts) != 3:
        raise CardDecodeError(f"a compact JWS has 3 dot-separated parts, found {len(parts)}")
    try:
        header_bytes, payload, signature = (b64url_decode(p) for p in parts)
    except CardDecodeError as exc:
        raise CardDecodeError(f"JWS is not base64url.base64url.base64url: {exc.message}") from None
    header = from_json(header_bytes)
    if not isinstance(header, dict):
        raise CardDecodeError("JWS header is not a JSON object")
    return JwsParts(header, payload, signature, (parts[0] + "." + parts[1]).encode("ascii"))


def header_problems(header: Mapping[str, Any]) -> list[str]:
    """Why a JWS header is not a SMART Health Card header."""
    problems = []
    if "alg" not in header:
        problems.append("JWS header has no 'alg' (must be ES256)")
    elif header["alg"] != "ES256":
        problems.append(f"JWS header alg is {header['alg']!r}, must be 'ES256'")
    if "zip" not in header:
        problems.append("JWS header has no 'zip' (must be 'DEF': the payload is raw DEFLATE)")
    elif header["zip"] != "DEF":
        problems.append(f"JWS header zip is {header['zip']!r}, must be 'DEF'")
    if not header.get("kid"):
        problems.append("JWS header has no 'kid' (the issuer key's thumbprint)")
    elif not isinstance(header["kid"], str):
        problems.append("JWS header kid must be a string")
    return problems


def signature_problem(signature: bytes) -> str | None:
    """Why a signature is not a 64-byte ES256 r||s value (DER is the usual mistake)."""
    if len(signature) == 64:
        return None
    if len(signature) > 64 and signature[0] == 0x30 and signature[2:3] == b"\x02":
        return ("signature is DER-encoded (ASN.1 SEQUENCE of r and s); ES256 JWS signatures "
                "must be the 64-byte r||s concatenation (RFC 7515 A.3)")
    return f"signature is {len(signature)} bytes, an ES256 signature is 64 bytes (r||s)"


def verify_signature(parts: JwsParts, key: ec.EllipticCurvePublicKey) -> bool:
    """True if the 64-byte r||s signature is valid for the signing input under key."""
    if len(parts.signature) != 64:
        return False
    r = int.from_bytes(parts.signature[:32], "big")
    s = int.from_bytes(parts.signature[32:], "big")
    try:
        key.verify(encode_dss_signature(r, s), parts.signing_input, _ECDSA)
    except InvalidSignature:
        return False
    return True

"""Rules for issuer public keys (JWK / JWK sets), including the optional x5c certificate chain.

Spec: SMART Health Cards "Determining keys associated with an issuer" (kty EC, use sig, alg ES256,
crv P-256, kid = RFC 7638 thumbprint, no private 'd'; x5c leaf key = the JWK's x/y) and
"Certificates" (leaf Subject Alternative Name URI = iss; a valid path to a trusted anchor).

Trust in this server comes from the issuer directory (VCI style), so by default (anchors=None) an
x5c chain is checked for consistency only (leaf key, SAN, signatures along the chain); an expired
certificate is a warning. With anchors (SHA-256 fingerprints of trusted root certificates) the
chain must end at one of them, as in a PKI trust framework.
"""

from __future__ import annotations

import base64
import binascii
import datetime as dt
from collections.abc import Collection, Mapping
from dataclasses import dataclass, field
from typing import Any

from cryptography import x509
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec

from fhir_server.health_cards.encoding import from_json
from fhir_server.health_cards.errors import CardDecodeError, KeySetError
from fhir_server.health_cards.jws import public_key_from_jwk, thumbprint


@dataclass
class KeyCheck:
    """Result of checking one JWK: errors make the key unusable, warnings do not."""

    kid: str
    errors: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    key: ec.EllipticCurvePublicKey | None = None


def check_public_jwk(jwk: Any, iss: str | None = None, *,
                     anchors: Collection[str] | None = None,
                     now: float | None = None) -> KeyCheck:
    """Check one issuer key against the spec's key rules (and its x5c chain, if any)."""
    if not isinstance(jwk, Mapping):
        return KeyCheck("?", ["key is not a JSON object"])
    kid = str(jwk.get("kid") or "?")
    check = KeyCheck(kid)
    errors = check.errors
    if "d" in jwk:
        errors.append(f"key {kid} contains private key material ('d'): never publish it")
    if jwk.get("kty") != "EC":
        errors.append(f"key {kid} has kty {jwk.get('kty')!r}, must be 'EC'")
    if jwk.get("crv") != "P-256":
        errors.append(f"key {kid} has crv {jwk.get('crv')!r}, must be 'P-256'")
    if jwk.get("alg") != "ES256":
        errors.append(f"key {kid} has alg {jwk.get('alg')!r}, must be 'ES256'")
    if jwk.get("use") != "sig":
        errors.append(f"key {kid} has use {jwk.get('use')!r}, must be 'sig'")
    if "crlVersion" in jwk and (isinstance(jwk["crlVersion"], bool)
                                or not isinstance(jwk["crlVersion"], int)):
        errors.append(f"key {kid} has a crlVersion that is not an integer")
    if jwk.get("kty") == "EC" and jwk.get("crv") == "P-256":
        try:
            check.key = public_key_from_jwk(jwk)
        except (ValueError, CardDecodeError) as exc:
            errors.append(f"key {kid} is not a valid P-256 public key: {exc}")
    if check.key is not None:
        expected = thumbprint(jwk)
        if not jwk.get("kid"):
            errors.append("key has no kid (must be its RFC 7638 thumbprint)")
        elif jwk["kid"] != expected:
            errors.append(f"key kid {kid!r} is not the key's RFC 7638 thumbprint ({expected})")
    if "x5c" in jwk:
        _check_x5c(jwk, check, iss, anchors, now)
    if errors:
        check.key = None
    return check


def _check_x5c(jwk: Mapping[str, Any], check: KeyCheck, iss: str | None,
               anchors: Collection[str] | None, now: float | None) -> None:
    """x5c: leaf key = JWK key, SAN URI = iss, each cert signed by the next, anchored root."""
    kid = check.kid
    chain = jwk["x5c"]
    if not isinstance(chain, list) or not chain:
        check.errors.append(f"key {kid} x5c must be a non-empty list of certificates")
        return
    try:
        certs = [x509.load_der_x509_certificate(base64.b64decode(c, validate=True))
                 for c in chain]
    except (ValueError, TypeError, binascii.Error):
        check.errors.append(f"key {kid} x5c holds an entry that is not a base64 DER certificate")
        return
    leaf = certs[0]
    if check.key is not None and leaf.public_key() != check.key:
        check.errors.append(f"key {kid}: the x5c leaf certificate's public key does not match "
                            "the JWK's x/y")
    try:
        san = leaf.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
    except x509.ExtensionNotFound:
        check.errors.append(f"key {kid}: the x5c leaf certificate has no Subject Alternative "
                            "Name (it must carry the issuer URL as a URI)")
    else:
        uris = san.get_values_for_type(x509.UniformResourceIdentifier)
        if not uris:
            check.errors.append(f"key {kid}: the x5c leaf certificate's Subject Alternative Name "
                                "has no URI entry (the issuer URL must be a URI, not a DNS name)")
        elif iss is not None and iss not in uris:
            check.errors.append(f"key {kid}: the x5c leaf certificate is for {uris}, "
                                f"not for issuer {iss}")
    for child, parent in zip(certs, certs[1:], strict=False):
        try:
            child.verify_directly_issued_by(parent)
        except (ValueError, TypeError, InvalidSignature) as exc:
            check.errors.append(f"key {kid}: x5c chain is broken: {_name(child)} is not validly "
                                f"signed by {_name(parent)} ({type(exc).__name__})")
    root = certs[-1]
    if anchors is not None:
        fingerprint = root.fingerprint(hashes.SHA256()).hex()
        if fingerprint not in {a.lower().replace(":", "") for a in anchors}:
            check.errors.append(f"key {kid}: x5c chain is not trusted: its root {_name(root)} "
                                "is not a configured trust anchor")
    moment = dt.datetime.fromtimestamp(now, dt.UTC) if now is not None else dt.datetime.now(dt.UTC)
    for cert in certs:
        if moment > cert.not_valid_after_utc:
            check.warnings.append(f"key {kid}: certificate {_name(cert)} expired on "
                                  f"{cert.not_valid_after_utc.date()}")
        elif moment < cert.not_valid_before_utc:
            check.warnings.append(f"key {kid}: certificate {_name(cert)} is not valid before "
                                  f"{cert.not_valid_before_utc.date()}")


def _name(cert: x509.Certificate) -> str:
    """A short readable name (the subject) of a certificate."""
    return cert.subject.rfc4514_string() or "(no subject)"


@dataclass
class KeySet:
    """A checked JWK set: usable keys by kid, and the checks (with reasons) of every key."""

    keys: dict[str, ec.EllipticCurvePublicKey]
    checks: dict[str, KeyCheck]
    crl_versions: dict[str, int]

    def problems(self) -> list[str]:
        """Every error of every key in the set."""
        return [e for check in self.checks.values() for e in check.errors]


def load_jwks(doc: Any, iss: str | None = None, *, anchors: Collection[str] | None = None,
              now: float | None = None) -> KeySet:
    """Parse and check a JWK set (text, bytes or object); KeySetError if it is not a key set."""
    if isinstance(doc, bytes | str):
        try:
            doc = from_json(doc)
        except CardDecodeError as exc:
            raise KeySetError(f"JWK set is not valid JSON ({exc.message})") from None
    if not isinstance(doc, Mapping) or not isinstance(doc.get("keys"), list):
        raise KeySetError("not a JWK set: expected a JSON object {\"keys\": [...]}")
    keys: dict[str, ec.EllipticCurvePublicKey] = {}
    checks: dict[str, KeyCheck] = {}
    versions: dict[str, int] = {}
    for jwk in doc["keys"]:
        check = check_public_jwk(jwk, iss, anchors=anchors, now=now)
        if check.key is None and check.kid in keys:
            continue  # another entry for the same key (e.g. another x5c) is already usable
        checks[check.kid] = check
        if check.key is not None:
            keys[check.kid] = check.key
            if isinstance(jwk.get("crlVersion"), int):
                versions[check.kid] = jwk["crlVersion"]
    return KeySet(keys, checks, versions)

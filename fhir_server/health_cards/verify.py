"""Verification of one JWS: decode, check structure, signature, trust, time and revocation.

Spec sections checked: "Health Cards are Compact" (header, raw DEFLATE, minified payload),
"Health Cards are encoded as Compact Serialization JWS" (claims), "Determining keys associated
with an issuer" (kid lookup in the trusted issuer's key set), "Expiration of Health Cards"
(exp), "Revocation" (rid against the key's CRL), "Health Cards as QR Codes" (1195 characters).
Nothing here raises on bad input: every problem becomes a reason in the result.
"""

from __future__ import annotations

import re
import time
import zlib
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from fhir_server.health_cards.claims import MILLISECONDS_THRESHOLD, check_claims, unknown_types
from fhir_server.health_cards.encoding import MAX_SINGLE_JWS, from_json, inflate
from fhir_server.health_cards.errors import CardDecodeError
from fhir_server.health_cards.jws import (
    JwsParts,
    header_problems,
    signature_problem,
    split_jws,
    verify_signature,
)
from fhir_server.health_cards.result import (
    EXPIRED,
    INVALID,
    NOT_TRUSTED,
    NOT_YET_VALID,
    REVOKED,
    CardResult,
    Findings,
    summarise,
    timestamp,
)
from fhir_server.health_cards.trust import TrustedIssuers

BOM = "\ufeff"
_STRINGS = re.compile(r'"(?:[^"\\]|\\.)*"')
_WHITESPACE = re.compile(r"[ \t\r\n]")


@dataclass(frozen=True)
class VerifyOptions:
    """Verification policy. strict: conformance issues (whitespace, BOM, inflated QR, wrong file
    extension, unminified payload) reject the card; otherwise they are warnings."""

    strict: bool = True
    clock_skew: int = 60  # seconds of tolerance for an nbf slightly in the future
    # issuers accepted on plain http (this server in development mode): a warning, not invalid
    development_issuers: frozenset[str] = frozenset()


def _claim_problems(claims: Mapping[str, Any], options: VerifyOptions,
                    findings: Findings) -> None:
    """check_claims' reasons; a development issuer's missing https is only a warning."""
    iss = claims.get("iss")
    http = f"iss {iss!r} must use https"
    for problem in check_claims(claims):
        if iss in options.development_issuers and problem == http:
            findings.warnings.append(f"development issuer {iss}: not https, so this card is "
                                     "for testing only (SMART Health Cards: iss uses https)")
        else:
            findings.add(INVALID, problem)


def text_hygiene(text: str, what: str, findings: Findings, strict: bool) -> str:
    """Report and strip a BOM or leading/trailing whitespace around text."""
    if text.startswith(BOM):
        findings.issue(strict, f"{what} starts with a UTF-8 byte-order mark")
        text = text[1:]
    if text != text.strip():
        findings.issue(strict, f"{what} has leading or trailing whitespace")
        text = text.strip()
    return text


def _payload(parts: JwsParts, findings: Findings) -> bytes | None:
    """The inflated payload; if it is not raw DEFLATE, a best-effort decoding for more reasons."""
    try:
        return inflate(parts.payload)
    except CardDecodeError as exc:
        findings.add(INVALID, exc.message)
    try:
        return zlib.decompress(parts.payload)
    except zlib.error:
        return parts.payload if parts.payload[:1] in (b"{", b"\xef") else None


def _claims(raw: bytes, findings: Findings, strict: bool) -> Any:
    """Parse the payload JSON after the BOM / whitespace / minification checks."""
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError:
        findings.add(INVALID, "JWS payload is not UTF-8")
        return None
    text = text_hygiene(text, "JWS payload", findings, strict)
    try:
        claims = from_json(text)
    except CardDecodeError as exc:
        findings.add(INVALID, f"JWS payload is {exc.message}")
        return None
    if isinstance(claims, dict) and _WHITESPACE.search(_STRINGS.sub('""', text)):
        findings.issue(strict, "JWS payload is not minified (it has optional whitespace)")
    return claims


def _time(value: Any) -> float | None:
    """A usable seconds timestamp, or None (malformed values are reported by check_claims)."""
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    return float(value) if 0 <= value <= MILLISECONDS_THRESHOLD else None


def verify_jws(jws: str, trusted: TrustedIssuers, *, now: float | None = None,
               options: VerifyOptions = VerifyOptions(), from_qr: bool = False) -> CardResult:
    """Verify one compact JWS and say who and what it is about."""
    now = time.time() if now is None else now
    findings = Findings()
    jws = text_hygiene(jws, "JWS", findings, options.strict)
    if len(jws) > MAX_SINGLE_JWS:
        message = (f"JWS is {len(jws)} characters: more than {MAX_SINGLE_JWS}, so it does not "
                   "fit in one QR code")
        if from_qr:
            findings.add(INVALID, message)
        else:
            findings.warnings.append(message)
    try:
        parts = split_jws(jws)
    except CardDecodeError as exc:
        return _done(findings, INVALID, exc.message)
    header = parts.header
    findings.extend(INVALID, header_problems(header))
    sig_problem = signature_problem(parts.signature)
    if sig_problem:
        findings.add(INVALID, sig_problem)
    raw = _payload(parts, findings)
    claims = _claims(raw, findings, options.strict) if raw is not None else None
    if not isinstance(claims, Mapping):
        if claims is not None:
            findings.extend(INVALID, check_claims(claims))
        if isinstance(header.get("kid"), str) and sig_problem is None:
            _signature_only(parts, header["kid"], trusted, findings)
        return _done(findings)
    _claim_problems(claims, options, findings)
    findings.warnings += [f"vc.type {t!r} is not understood and is ignored (spec)"
                          for t in unknown_types(claims)]
    vc = claims.get("vc") if isinstance(claims.get("vc"), Mapping) else {}
    subject = vc.get("credentialSubject") if isinstance(vc, Mapping) else None
    who, doses = summarise(subject.get("fhirBundle") if isinstance(subject, Mapping) else None)
    iss = claims.get("iss") if isinstance(claims.get("iss"), str) else None
    kid = header.get("kid") if isinstance(header.get("kid"), str) else None
    nbf, exp = _time(claims.get("nbf")), _time(claims.get("exp"))
    rid = vc.get("rid") if isinstance(vc, Mapping) and isinstance(vc.get("rid"), str) else None
    result = CardResult("", [], [], issuer=iss, kid=kid, subject=who, doses=doses,
                        nbf=nbf, exp=exp, rid=rid)
    if iss is not None and kid is not None:
        _check_trust(parts, iss, kid, trusted, findings, result, sig_problem is None)
    elif kid is None:
        findings.add(NOT_TRUSTED, "without a kid the issuer key cannot be chosen")
    if nbf is not None and nbf > now + options.clock_skew:
        findings.add(NOT_YET_VALID, f"the card is not valid before {timestamp(nbf)} (nbf)")
    if exp is not None and exp < now:
        findings.add(EXPIRED, f"the card expired on {timestamp(exp)} (exp)")
    return _done(findings, result=result)


def _check_trust(parts: JwsParts, iss: str, kid: str, trusted: TrustedIssuers,
                 findings: Findings, result: CardResult, signature_ok: bool) -> None:
    """Issuer and key lookup, signature, then the key's revocation list."""
    issuer = trusted.get(iss)
    owners = [o for o in trusted.issuers_with_kid(kid) if o != iss]
    elsewhere = f"; key {kid} belongs to trusted issuer(s) {', '.join(owners)}" if owners else ""
    if issuer is None:
        findings.add(NOT_TRUSTED, f"issuer {iss} is not a trusted issuer{elsewhere}")
        return
    result.issuer_name = issuer.name
    if issuer.keyset is None:
        findings.extend(NOT_TRUSTED, issuer.problems or [f"no keys known for issuer {iss}"])
        return
    check = issuer.keyset.checks.get(kid)
    if check is None:
        findings.add(NOT_TRUSTED, f"issuer {iss} publishes no key with kid {kid} (unknown or "
                                  f"forged key){elsewhere}")
        return
    result.warnings.extend(check.warnings)
    key = issuer.keyset.keys.get(kid)
    if key is None:
        findings.extend(NOT_TRUSTED, [f"the key is rejected: {e}" for e in check.errors])
        return
    if not signature_ok:
        return
    if not verify_signature(parts, key):
        findings.add(INVALID, f"the signature does not verify with key {kid} of {iss}: the card "
                              "was altered or not signed by this issuer")
        return
    _check_revocation(issuer.crls, issuer.crl_problems, issuer.keyset.crl_versions, kid,
                      findings, result)


def _signature_only(parts: JwsParts, kid: str, trusted: TrustedIssuers,
                    findings: Findings) -> None:
    """Without readable claims (no iss), still tell tampering apart using the kid's owner."""
    for owner in trusted.issuers_with_kid(kid):
        issuer = trusted.get(owner)
        key = issuer.keyset.keys.get(kid) if issuer and issuer.keyset else None
        if key is not None and not verify_signature(parts, key):
            findings.add(INVALID, f"the signature does not verify with key {kid} of {owner}: "
                                  "the card was altered")
            return


def _check_revocation(crls: Mapping[str, Any], crl_problems: Mapping[str, list[str]],
                      versions: Mapping[str, int], kid: str, findings: Findings,
                      result: CardResult) -> None:
    """Spec "Revocation": a key with crlVersion needs its CRL; a listed rid revokes the card."""
    if kid in crl_problems:
        findings.extend(NOT_TRUSTED, [f"the revocation list of key {kid} is unusable: {p}"
                                      for p in crl_problems[kid]])
        return
    crl = crls.get(kid)
    if crl is None:
        if kid in versions:
            findings.add(NOT_TRUSTED, f"no revocation list is available for key {kid} "
                                      f"(crlVersion {versions[kid]}): revocation cannot be checked")
        return
    if result.rid is not None and crl.is_revoked(result.rid, result.nbf or 0.0):
        cutoff = crl.entries[result.rid]
        when = f" (cards issued before {timestamp(cutoff)})" if cutoff is not None else ""
        findings.add(REVOKED, f"the issuer revoked this card: rid {result.rid} is on the "
                              f"revocation list of key {kid}{when}")


def _done(findings: Findings, verdict: str | None = None, message: str | None = None,
          result: CardResult | None = None) -> CardResult:
    """Close a CardResult: add a final reason if given, then compute the verdict."""
    if verdict is not None and message is not None:
        findings.add(verdict, message)
    result = result or CardResult("", [], [])
    result.verdict = findings.verdict()
    result.reasons = findings.messages()
    result.warnings = findings.warnings + result.warnings
    return result

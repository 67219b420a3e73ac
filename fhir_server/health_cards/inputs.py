"""Verify whatever a user hands in: QR image(s), `shc:/` text, a JWS, a `.smart-health-card`
file, a $health-cards-issue Parameters answer, or (to explain why it is not a card) a bare FHIR
Bundle or unsigned JWT payload. Spec: "User Retrieves Health Cards" (file, QR) and "Encoding QRs".
"""

from __future__ import annotations

import time
from collections.abc import Mapping, Sequence
from typing import Any

from fhir_server.health_cards.bundle_rules import check_bundle
from fhir_server.health_cards.claims import check_claims, unknown_types
from fhir_server.health_cards.encoding import (
    SHC_PREFIX,
    NumericQr,
    chunk_problems,
    from_json,
    join_chunks,
    numeric_to_jws,
)
from fhir_server.health_cards.errors import CardDecodeError
from fhir_server.health_cards.issue import FILE_EXTENSION, parameters_credentials
from fhir_server.health_cards.qr import decode_qr_image, symbol_problems
from fhir_server.health_cards.result import (
    INVALID,
    Findings,
    VerificationResult,
    combine,
    failure,
)
from fhir_server.health_cards.trust import TrustedIssuers
from fhir_server.health_cards.verify import VerifyOptions, text_hygiene, verify_jws

_IMAGE_MAGIC = (b"\x89PNG", b"\xff\xd8\xff", b"GIF8", b"BM", b"II*\x00", b"MM\x00*")
_IMAGE_SUFFIXES = (".png", ".jpg", ".jpeg", ".gif", ".bmp", ".tif", ".tiff", ".webp")


def is_image(data: bytes, filename: str | None = None) -> bool:
    """True if data looks like a raster image (by magic bytes or file name)."""
    if data.startswith(_IMAGE_MAGIC) or (data[:4] == b"RIFF" and data[8:12] == b"WEBP"):
        return True
    return bool(filename and filename.lower().endswith(_IMAGE_SUFFIXES))


def verify(data: bytes | str, trusted: TrustedIssuers, *, now: float | None = None,
           filename: str | None = None,
           options: VerifyOptions = VerifyOptions()) -> VerificationResult:
    """Verify one input of any accepted kind; never raises on bad input."""
    now = time.time() if now is None else now
    if isinstance(data, bytes):
        if is_image(data, filename):
            return verify_images([data], trusted, now=now, options=options)
        try:
            data = data.decode("utf-8")
        except UnicodeDecodeError:
            return failure(INVALID, "input is neither an image nor UTF-8 text")
    findings = Findings()
    text = text_hygiene(data, "input", findings, options.strict)
    if text.startswith(SHC_PREFIX):
        texts = [line for line in text.split() if line]
        return verify_qr_texts(texts, trusted, now=now, options=options, findings=findings)
    if text.startswith("{"):
        return _verify_json(text, trusted, now, filename, options, findings)
    if text.count(".") == 2:
        return combine([verify_jws(text, trusted, now=now, options=options)], findings)
    if text.lower().startswith("shc:"):
        findings.add(INVALID, f"QR content must start with {SHC_PREFIX!r} (found {text[:8]!r})")
        return combine([], findings)
    findings.add(INVALID, "not a health card: expected a QR image, 'shc:/...' text, a JWS or a "
                          ".smart-health-card file")
    return combine([], findings)


def _verify_json(text: str, trusted: TrustedIssuers, now: float, filename: str | None,
                 options: VerifyOptions, findings: Findings) -> VerificationResult:
    """A .smart-health-card file, a Parameters answer, or an unsigned bundle/payload."""
    try:
        doc = from_json(text)
    except CardDecodeError as exc:
        findings.add(INVALID, f"input is {exc.message}")
        return combine([], findings)
    if not isinstance(doc, Mapping):
        findings.add(INVALID, "input JSON is not an object")
        return combine([], findings)
    if "verifiableCredential" in doc:
        if filename and not filename.endswith(FILE_EXTENSION):
            findings.issue(options.strict, f"a health card file must have the {FILE_EXTENSION} "
                                           f"extension (got {filename})")
        vcs = doc["verifiableCredential"]
        if not isinstance(vcs, list) or not vcs or not all(isinstance(v, str) for v in vcs):
            findings.add(INVALID, "verifiableCredential must be a non-empty list of JWS strings")
            return combine([], findings)
        jws_list = vcs
    elif doc.get("resourceType") == "Parameters":
        try:
            jws_list = parameters_credentials(doc)
        except CardDecodeError as exc:
            findings.add(INVALID, exc.message)
            return combine([], findings)
    elif doc.get("resourceType") == "Bundle":
        findings.add(INVALID, "a FHIR Bundle is not a health card: it is not signed")
        findings.extend(INVALID, check_bundle(doc))
        return combine([], findings)
    elif "vc" in doc or "iss" in doc:
        findings.add(INVALID, "these are unsigned JWT claims, not a signed health card")
        findings.extend(INVALID, check_claims(doc))
        findings.extend(INVALID, _time_reasons(doc, now, options))
        findings.warnings += [f"vc.type {t!r} is not understood and is ignored (spec)"
                              for t in unknown_types(doc)]
        return combine([], findings)
    else:
        findings.add(INVALID, "JSON input is neither a .smart-health-card file nor a "
                              "$health-cards-issue Parameters resource")
        return combine([], findings)
    cards = [verify_jws(j, trusted, now=now, options=options) for j in jws_list]
    return combine(cards, findings)


def _time_reasons(claims: Mapping[str, Any], now: float, options: VerifyOptions) -> list[str]:
    """nbf/exp of unsigned claims against the clock (already invalid; reported for clarity)."""
    reasons = []
    nbf, exp = claims.get("nbf"), claims.get("exp")
    if (isinstance(nbf, int | float) and not isinstance(nbf, bool)
            and nbf > now + options.clock_skew):
        reasons.append("nbf is in the future: the card is not yet valid")
    if isinstance(exp, int | float) and not isinstance(exp, bool) and exp < now:
        reasons.append("exp is in the past: the card has expired")
    return reasons


def verify_qr_texts(texts: Sequence[str], trusted: TrustedIssuers, *, now: float | None = None,
                    options: VerifyOptions = VerifyOptions(),
                    findings: Findings | None = None) -> VerificationResult:
    """Verify the `shc:/` content of one QR code (or of several deprecated chunks)."""
    findings = findings or Findings()
    parts: list[NumericQr] = []
    for n, raw in enumerate(texts, start=1):
        what = "QR content" if len(texts) == 1 else f"QR content {n}"
        text = text_hygiene(raw, what, findings, options.strict)
        try:
            parts.append(numeric_to_jws(text))
        except CardDecodeError as exc:
            findings.add(INVALID, f"{what}: {exc.message}")
    if len(parts) != len(texts):
        return combine([], findings)
    if len(parts) > 1 and not any(p.chunked for p in parts):  # several cards, e.g. one photo
        cards = [verify_jws(p.jws_part, trusted, now=now, options=options, from_qr=True)
                 for p in parts]
        return combine(cards, findings)
    problems = chunk_problems(parts)
    findings.extend(INVALID, problems)
    if any(p.startswith(("missing", "QR chunks disagree")) or "more than once" in p
           for p in problems):
        return combine([], findings)
    card = verify_jws(join_chunks(parts), trusted, now=now, options=options, from_qr=True)
    return combine([card], findings)


def verify_images(images: Sequence[bytes], trusted: TrustedIssuers, *, now: float | None = None,
                  options: VerifyOptions = VerifyOptions()) -> VerificationResult:
    """Verify QR image(s): decode with zxing-cpp, check the symbols, then their content."""
    findings = Findings()
    texts: list[str] = []
    for n, image in enumerate(images, start=1):
        what = "image" if len(images) == 1 else f"image {n}"
        try:
            symbols = decode_qr_image(image)
        except CardDecodeError as exc:
            findings.add(INVALID, f"{what}: {exc.message}")
            continue
        if not symbols:
            findings.add(INVALID, f"{what}: no readable QR code found (damaged or too blurry?)")
            continue
        for symbol in symbols:
            errors, issues = symbol_problems(symbol)
            findings.extend(INVALID, errors)
            for issue in issues:
                findings.issue(options.strict, issue)
            texts.append(symbol.text)
    if not texts:
        return combine([], findings)
    return verify_qr_texts(texts, trusted, now=now, options=options, findings=findings)

"""The spec's own examples (SMART Health Cards and Links IG, examples 00-03) and tampered copies."""

from __future__ import annotations

import pytest

from fhir_server.health_cards import (
    TrustedIssuers,
    check_claims,
    decode_card,
    from_json,
    parse_health_card_file,
    verify,
)
from fhir_server.health_cards.jws import split_jws, thumbprint
from fhir_server.health_cards.result import EXPIRED, INVALID, VALID
from tests.health_cards.conftest import (
    EXAMPLE_NBF,
    NOW,
    SPEC,
    SPEC_ISS,
    TAMPERED,
    read,
    requires_vectors,
)

pytestmark = requires_vectors
FORMS = ("d-jws.txt", "e-file.smart-health-card", "f-qr-code-numeric-value-0.txt",
         "g-qr-code-0.png")
A_DAY_AFTER_ISSUE = EXAMPLE_NBF + 86_400


@pytest.mark.parametrize("example", ["00", "01"])
@pytest.mark.parametrize("form", FORMS)
def test_examples_00_and_01_verify_in_every_form(spec_trusted: TrustedIssuers, example: str,
                                                 form: str) -> None:
    """Spec examples page: example 0 (3 doses) and example 1 (key with x5c) are valid cards."""
    name = f"example-{example}-{form}"
    result = verify(read(SPEC / name), spec_trusted, now=NOW, filename=name)
    assert result.verdict == VALID, result.reasons
    assert result.issuer == SPEC_ISS
    assert result.subject is not None and result.subject.name == "Anyperson John B."
    assert result.subject.birth_date == "1951-01-20"
    assert [(d.vaccine_code, d.date, d.lot_number) for d in result.doses] == [
        ("207", "2021-01-01", "0000001"), ("207", "2021-01-29", "0000007"),
        ("229", "2022-09-05", "0000001")]
    assert result.doses[0].performer == "ABC General Hospital"


@pytest.mark.parametrize("form", FORMS)
def test_example_03_verifies_on_a_fixed_clock_and_is_expired_today(
        spec_trusted: TrustedIssuers, form: str) -> None:
    """Spec "Expiration": example 3 has exp 2025-05-07; on nbf + 1 day it is valid (its rid is on
    the CRL only for cards issued before 2022-09-29, spec "Revocation"); later it is expired."""
    data = read(SPEC / f"example-03-{form}")
    then = verify(data, spec_trusted, now=A_DAY_AFTER_ISSUE, filename=f"example-03-{form}")
    assert then.verdict == VALID, then.reasons
    assert then.cards[0].rid == "vwAjHdarZuc"
    today = verify(data, spec_trusted, now=NOW, filename=f"example-03-{form}")
    assert today.verdict == EXPIRED
    assert any("expired on 2025-05-07" in r for r in today.reasons)


@pytest.mark.parametrize("form", ["d-jws.txt", "e-file.smart-health-card"])
def test_example_02_is_known_bad(spec_trusted: TrustedIssuers, form: str) -> None:
    """Example 2 (an IPS document) keeps Practitioner/... references: it breaks the spec's
    resource:N rule, and at 3173 characters it cannot be one QR code."""
    result = verify(read(SPEC / f"example-02-{form}"), spec_trusted, now=NOW)
    assert result.verdict == INVALID
    assert any("'Practitioner/" in r and "short resource-scheme" in r for r in result.reasons)
    assert any("does not fit in one QR code" in w for w in result.warnings)


def test_example_02_chunked_qr_is_rejected(spec_trusted: TrustedIssuers) -> None:
    """Spec: QR chunking is deprecated; the three chunks of example 2 are refused."""
    from fhir_server.health_cards import verify_qr_texts

    texts = [read(SPEC / f"example-02-f-qr-code-numeric-value-{i}.txt").decode()
             for i in (1, 0, 2)]
    result = verify_qr_texts(texts, spec_trusted, now=NOW)
    assert result.verdict == INVALID
    assert any("deprecated" in r for r in result.reasons)


@pytest.mark.parametrize("example", ["00", "01", "03"])
def test_example_payloads_pass_the_content_rules(example: str) -> None:
    """The expanded (b) and minified (c) payloads satisfy every claims and bundle rule, and the
    JWS decodes to exactly the minified payload (steps: JSON <-> DEFLATE <-> JWS)."""
    expanded = from_json(read(SPEC / f"example-{example}-b-jws-payload-expanded.json"))
    minified = read(SPEC / f"example-{example}-c-jws-payload-minified.json")
    assert check_claims(expanded) == []
    header, claims = decode_card(read(SPEC / f"example-{example}-d-jws.txt").decode())
    assert header["zip"] == "DEF" and header["alg"] == "ES256"
    assert claims == from_json(minified) == expanded


def test_example_kids_are_rfc7638_thumbprints() -> None:
    """Spec: kid = base64url SHA-256 JWK thumbprint (RFC 7638) of the issuer key."""
    for jwk in from_json(read(SPEC / "issuer-jwks.json"))["keys"]:
        assert jwk["kid"] == thumbprint(jwk)
    files = [parse_health_card_file(read(SPEC / f"example-0{n}-e-file.smart-health-card"))
             for n in range(4)]
    assert all(split_jws(f[0]).header["kid"] for f in files)


TAMPERED_CASES = {
    "example-00-d-jws.birthdate-changed-not-resigned.txt": "signature does not verify",
    "example-00-d-jws.payload-char-flipped.txt": "not valid raw DEFLATE",
    "example-00-d-jws.signature-char-flipped.txt": "signature does not verify",
    "example-00-f-qr-code-numeric.pair-99.txt": "'99' at position 40 is larger than 77",
    "example-00-f-qr-code-numeric.payload-char-flipped.txt": "altered",
    "example-00-g-qr-code.payload-char-flipped.png": "altered",
}


@pytest.mark.parametrize(("name", "reason"), sorted(TAMPERED_CASES.items()))
def test_tampered_copies_of_example_00_fail(spec_trusted: TrustedIssuers, name: str,
                                            reason: str) -> None:
    """A changed payload, signature or digit pair never verifies, and the reason says why."""
    assert {p.name for p in TAMPERED.iterdir()} == set(TAMPERED_CASES)
    result = verify(read(TAMPERED / name), spec_trusted, now=NOW, filename=name)
    assert result.verdict == INVALID
    assert any(reason in r for r in result.reasons), result.reasons

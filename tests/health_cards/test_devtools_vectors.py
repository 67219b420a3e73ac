"""Every vector of the official validator's test suite (health-cards-dev-tools v1.3.0-2 testdata).

Each negative vector must be rejected with a reason that names its defect (regex below). A few
files of that folder are the validator's own POSITIVE cases (valid keys, a valid multi-card file,
images that need rescaling...) or support files (private test keys, a directory); they are listed
separately, with what we assert about them. A final test makes sure no file is left unclassified.
Spec sections are given per group.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from fhir_server.health_cards import (
    TrustedIssuers,
    check_claims,
    from_json,
    verify,
    verify_images,
    verify_qr_texts,
)
from fhir_server.health_cards.claims import unknown_types
from fhir_server.health_cards.result import INVALID, NOT_TRUSTED, VALID
from tests.health_cards.conftest import DEVTOOLS, NOW, SPEC, SPEC_CRL, SPEC_ISS, read
from tests.health_cards.test_devtools_keys import BAD_KEYS, NOT_KEY_SETS, POSITIVE_KEYS

pytestmark = pytest.mark.skipif(not DEVTOOLS.is_dir(), reason="no dev-tools vectors")

GITHUB = "https://raw.githubusercontent.com"
BADJWKS_ISS = f"{GITHUB}/microsoft/health-cards-validation-SDK/main/testdata/badjwks"
BADCRL_ISS = f"{GITHUB}/smart-on-fhir/health-cards-dev-tools/main/testdata/badcrl"
NOT_SMART_ISS = "https://not-smart.example.org/issuer"
BADCRL = ("duplicate-rid", "invalid-method", "non-base64url-rid", "too-long-rid",
          "version-mismatch")


@pytest.fixture(scope="module")
def trusted() -> TrustedIssuers:
    """The issuers the validator's tests download keys from, supplied locally."""
    trusted = TrustedIssuers()
    trusted.add(SPEC_ISS, "spec example issuer", read(SPEC / "issuer-jwks.json"),
                [from_json(read(SPEC_CRL))])
    trusted.add(BADJWKS_ISS, "bad JWKS issuer", read(DEVTOOLS / "badjwks/.well-known/jwks.json"))
    trusted.add(NOT_SMART_ISS, "another issuer",
                read(DEVTOOLS / "issuer.jwks.public.not.smart.json"))
    for name in BADCRL:
        base = DEVTOOLS / "badcrl" / name / ".well-known"
        trusted.add(f"{BADCRL_ISS}/{name}", name, read(base / "jwks.json"),
                    [from_json(read(p)) for p in (base / "crl").glob("*.json")])
    return trusted


# file -> regex one reason must match. Spec: "Health Cards are Compact" (header, DEFLATE,
# minified), "Payload content minified for QR codes" (bundle), "...encoded as Compact
# Serialization JWS" (claims), "Determining keys" (iss, kid), "Encoding QRs", "Revocation".
CARDS = {
    # -- FHIR bundles (unsigned: rejected as such, plus the bundle's own defect)
    "test-example-00-a-fhirBundle-bad_meta_extra_key.json": r"meta may only contain 'security'",
    "test-example-00-a-fhirBundle-bad_meta_non_security.json":
        r"meta may only contain 'security' \(found id\)",
    "test-example-00-a-fhirBundle-bad_meta_wrong_security.json":
        r"security\[0\] has element\(s\) badKey that a Coding does not define",
    "test-example-00-a-fhirBundle-empty-values.json": r"empty array",
    "test-example-00-a-fhirBundle-occurrence-issues.json": r"more than one occurrence\[x\]",
    "test-example-00-a-fhirBundle-profile-usa.json": r"status 'Completed' is not a valid code",
    "test-example-00-a-fhirBundle-status-not-completed.json": r"status 'Partial' is not a valid",
    "test-example-00-a-fhirBundle-trailing_chars.json": r"leading or trailing whitespace",
    "test-example-00-a-non-dm-properties.json": r"Coding\.display, data minimisation",
    "test-example-00-a-short-refs.json": r"must be a short resource-scheme URI",
    # -- JWT payloads (unsigned claims)
    "test-example-00-b-jws-payload-expanded-exp_milliseconds.json": r"exp \d+ looks like milli",
    "test-example-00-b-jws-payload-expanded-expired.json": r"exp is in the past",
    "test-example-00-b-jws-payload-expanded-missing-coding.json": r"vaccineCode is an empty obj",
    "test-example-00-b-jws-payload-expanded-missing-covid-vc-type.json":
        r"misses https://smarthealth.cards#covid19",
    "test-example-00-b-jws-payload-expanded-missing-imm-vc-type.json":
        r"misses https://smarthealth.cards#immunization",
    "test-example-00-b-jws-payload-expanded-missing-shc-vc-type.json":
        r"vc.type must contain https://smarthealth.cards#health-card",
    "test-example-00-b-jws-payload-expanded-nbf_milliseconds.json": r"nbf \d+ looks like milli",
    "test-example-00-b-jws-payload-expanded-nbf_not_yet_valid.json": r"nbf is in the future",
    "test-example-00-b-jws-payload-expanded-pre-expired.json": r"exp [\d.]+ is not after nbf",
    "test-example-00-b-jws-payload-expanded-trailing_chars.json": r"leading or trailing white",
    "test-example-covid-lab-jwspayload-missing-lab-vc-type.json":
        r"misses https://smarthealth.cards#laboratory",
    # -- JWS
    "test-example-00-d-jws-bad-fhir-metadata.txt": r"meta may only contain 'security'",
    "test-example-00-d-jws-der-signature-r-neg.txt": r"DER-encoded",
    "test-example-00-d-jws-der-signature-rs-neg.txt": r"DER-encoded",
    "test-example-00-d-jws-der-signature-s-neg.txt": r"DER-encoded",
    "test-example-00-d-jws-der-signature.txt": r"DER-encoded",
    "test-example-00-d-jws-invalid-signature.txt": r"signature does not verify",
    "test-example-00-d-jws-issuer-kid-mismatch.txt":
        rf"no key with kid ARrig.*belongs to trusted issuer\(s\) {NOT_SMART_ISS}",
    "test-example-00-d-jws-issuer-not-valid-with-smart-key.txt":
        r"foo.smarthealth.cards/examples/issuer is not a trusted issuer; key 3Kfdg",
    "test-example-00-d-jws-jws_too_long.txt": r"nbf \(issuance time\) is required",
    "test-example-00-d-jws-no_deflate.txt": r"not compressed",
    "test-example-00-d-jws-no_jws_header_alg.txt": r"JWS header has no 'alg'",
    "test-example-00-d-jws-no_jws_header_kid.txt": r"JWS header has no 'kid'",
    "test-example-00-d-jws-no_jws_header_zip.txt": r"JWS header has no 'zip'",
    "test-example-00-d-jws-trailing_chars.txt": r"leading or trailing whitespace",
    "test-example-00-d-jws-utf8_bom_prefix.txt": r"JWS payload starts with a UTF-8 byte-order",
    "test-example-00-d-jws-wrong_jws_header_kid.txt": r"no key with kid 0000",
    # -- .smart-health-card files
    "test-example-00-e-file-bad_jwks.smart-health-card": r"JWK set .* is unusable",
    "test-example-00-e-file-invalid_deflate.smart-health-card": r"zlib header",
    "test-example-00-e-file-invalid_issuer_url.smart-health-card":
        r"issuerinvalid_url is not a trusted issuer",
    "test-example-00-e-file-invalid_issuer_url_http.smart-health-card": r"must use https",
    "test-example-00-e-file-issuer_url_with_trailing_slash.smart-health-card":
        r"must not end with '/'",
    "test-example-00-e-file-jws_too_long.smart-health-card": r"must contain .*#health-card",
    "test-example-00-e-file-multi-jws-issues.smart-health-card": r"\[card 1\] JWS header has no",
    "test-example-00-e-file-no_deflate.smart-health-card": r"JWS header has no 'zip'",
    "test-example-00-e-file-trailing_chars.smart-health-card": r"leading or trailing white",
    "test-example-00-e-file.wrong-extension": r"must have the .smart-health-card extension",
    # -- numeric QR text
    "test-example-00-f-qr-code-numeric-value-0-index-out-of-range.txt":
        r"chunk index 3 is out of range",
    "test-example-00-f-qr-code-numeric-value-0-number-too-big.txt": r"'78' .* larger than 77",
    "test-example-00-f-qr-code-numeric-value-0-odd-count.txt": r"odd number of digits",
    "test-example-00-f-qr-code-numeric-value-0-trailing_chars.txt": r"leading or trailing",
    "test-example-00-f-qr-code-numeric-value-0-wrong-multi-chunk.txt":
        r"must not carry a chunk header \(found shc:/1/1/\)",
    "test-example-00-f-qr-code-numeric-value-0-wrong_qr_header.txt": r"must start with 'shc:/'",
    # -- QR images
    "test-example-00-g-qr-code-0-bad_qr_version.png": r"version 24 is larger than 22",
    "test-example-00-g-qr-code-0-corrupted.png": r"no readable QR code",
    "test-example-00-g-qr-code-0-single_qr_segment.png": r"one byte-mode segment",
    "test-example-00-g-qr-code-0-too_many_qr_segment.png": r"extra QR segment",
    "test-example-00-g-qr-code-inflated-to-v22.png": r"version 22 but version 18 suffices",
    "test-invalid-jws-payload.png": r"payload is a JSON string \(double-encoded",
    **{f"badcrl/{n}/jws-crl-{n}.txt": r"revocation list of key hrvC0\S+ is unusable"
       for n in BADCRL},
}
CRL_DEFECTS = {"duplicate-rid": r"more than once", "invalid-method": r"unknown CRL method",
               "non-base64url-rid": r"base64url alphabet", "too-long-rid": r"longer than 24",
               "version-mismatch": r"ctr 2 does not match the key's crlVersion 1"}
# chunk sets, verified together (Spec: chunking deprecated since 1.3; "Encoding QRs")
CHUNK_SETS = {
    "f-qr_chunk_too_small (17 texts)": (
        [f"test-example-00-f-qr-code-numeric-value-{i}-qr_chunk_too_small.txt" for i in range(17)],
        r"fits one QR code but was split into 17 chunks"),
    "g-qr_chunk_too_small (2 images)": (
        [f"test-example-00-g-qr-code-{i}-qr_chunk_too_small.png" for i in range(2)],
        r"fits one QR code but was split into 2 chunks"),
    "02 qr_chunk_too_big (2 texts)": (
        [f"test-example-02-f-qr-code-numeric-value-{i}-qr_chunk_too_big.txt" for i in range(2)],
        r"QR chunk 1 carries 1632 JWS characters \(limit 1191\)"),
}
# the validator's own positive cases: they must NOT be rejected
POSITIVE_CARDS = ("test-example-00-e-file-multi-jws.smart-health-card",
                  "test-example-00-fhirhealthcard.json",
                  "test-example-00-fhirhealthcard-multi-jws.json",
                  "test-example-00-fhirhealthcard-with-resource-link.json",
                  "test-example-1195-byte-qrnumeric.txt",
                  "test-example-00-g-qr-code-0-scaled-23.jpg",
                  "test-example-00-g-qr-code-0-scaled-85.jpg")
# spec "SHALL ignore any additional type elements they do not understand": warning only
IGNORED_TYPES = ("test-example-00-b-jws-payload-expanded-optional-vc-type.json",
                 "test-example-00-b-jws-payload-expanded-unknown-vc-types.json")
SUPPORT = ("test-issuers.json", "badcrl/info.md")


def _matches(pattern: str, reasons: list[str]) -> bool:
    """True if one reason matches the pattern."""
    return any(re.search(pattern, r) for r in reasons)


@pytest.mark.parametrize(("name", "pattern"), sorted(CARDS.items()))
def test_negative_vector_is_rejected_with_its_reason(trusted: TrustedIssuers, name: str,
                                                     pattern: str) -> None:
    """The official validator's broken vectors: never valid, and the reason names the defect."""
    result = verify(read(DEVTOOLS / name), trusted, now=NOW, filename=Path(name).name)
    assert result.verdict != VALID
    assert result.reasons, name
    assert _matches(pattern, result.reasons), (name, result.reasons)


@pytest.mark.parametrize(("label", "case"), sorted(CHUNK_SETS.items()))
def test_chunked_sets_are_rejected(trusted: TrustedIssuers, label: str,
                                   case: tuple[list[str], str]) -> None:
    """Spec: chunking is deprecated; unneeded or oversized chunks are reported precisely."""
    names, pattern = case
    if names[0].endswith(".png"):
        result = verify_images([read(DEVTOOLS / n) for n in names], trusted, now=NOW)
    else:
        result = verify_qr_texts([read(DEVTOOLS / n).decode() for n in names], trusted, now=NOW)
    assert result.verdict == INVALID
    assert _matches("deprecated", result.reasons)
    assert _matches(pattern, result.reasons), result.reasons


@pytest.mark.parametrize("name", sorted(f for s in CHUNK_SETS.values() for f in s[0]))
def test_each_chunk_alone_is_rejected(trusted: TrustedIssuers, name: str) -> None:
    """A lone chunk is a deprecated, incomplete card."""
    result = verify(read(DEVTOOLS / name), trusted, now=NOW, filename=name)
    assert result.verdict == INVALID and _matches("deprecated|missing", result.reasons)


@pytest.mark.parametrize(("name", "pattern"), sorted(CRL_DEFECTS.items()))
def test_bad_crls_are_rejected_when_loaded(name: str, pattern: str) -> None:
    """Spec "Revocation": method rid, ctr = crlVersion, unique base64url rids <= 24 chars."""
    base = DEVTOOLS / "badcrl" / name / ".well-known"
    trusted = TrustedIssuers()
    issuer = trusted.add(f"{BADCRL_ISS}/{name}", name, read(base / "jwks.json"),
                         [from_json(read(p)) for p in (base / "crl").glob("*.json")])
    assert not issuer.crls
    assert _matches(pattern, [p for ps in issuer.crl_problems.values() for p in ps])


@pytest.mark.parametrize("name", POSITIVE_CARDS)
def test_validator_positive_cards_verify(trusted: TrustedIssuers, name: str) -> None:
    """The validator's own valid cases (multi-JWS file, $health-cards-issue answers, the
    1195-character card, JPEGs that need rescaling) verify here too."""
    result = verify(read(DEVTOOLS / name), trusted, now=NOW, filename=name)
    assert result.verdict == VALID, result.reasons
    assert result.subject is not None and result.subject.birth_date and result.doses


@pytest.mark.parametrize("name", IGNORED_TYPES)
def test_unknown_vc_types_are_ignored_with_a_warning(trusted: TrustedIssuers, name: str) -> None:
    """Spec: verifiers SHALL ignore vc.type values they do not understand -> warning only."""
    claims = from_json(read(DEVTOOLS / name))
    assert check_claims(claims) == []
    assert unknown_types(claims)
    result = verify(read(DEVTOOLS / name), trusted, now=NOW)
    assert result.verdict == INVALID  # still unsigned claims, not a card
    assert _matches("not understood and is ignored", result.warnings)


def test_kid_mismatch_without_the_other_issuer_is_not_trusted() -> None:
    """With only the spec issuer trusted, a kid it does not publish is 'not trusted'."""
    trusted = TrustedIssuers()
    trusted.add(SPEC_ISS, "spec", read(SPEC / "issuer-jwks.json"), [from_json(read(SPEC_CRL))])
    result = verify(read(DEVTOOLS / "test-example-00-d-jws-issuer-kid-mismatch.txt"), trusted,
                    now=NOW)
    assert result.verdict == NOT_TRUSTED
    assert _matches("publishes no key with kid ARrig", result.reasons)


def test_every_file_is_classified() -> None:
    """No vector of the folder is left without an expectation."""
    chunks = {f for names, _ in CHUNK_SETS.values() for f in names}
    crl_files = {str(p.relative_to(DEVTOOLS)) for p in DEVTOOLS.glob("badcrl/*/.well-known/**/*")
                 if p.is_file()}
    known = (set(CARDS) | chunks | crl_files | set(BAD_KEYS) | set(NOT_KEY_SETS)
             | set(POSITIVE_CARDS) | set(POSITIVE_KEYS) | set(IGNORED_TYPES) | set(SUPPORT))
    files = {str(p.relative_to(DEVTOOLS)) for p in DEVTOOLS.rglob("*") if p.is_file()}
    assert files - known == set()

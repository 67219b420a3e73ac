"""Key and key-set vectors of the official validator (health-cards-dev-tools testdata).

Spec: "Determining keys associated with an issuer" (kty EC, crv P-256, alg ES256, use sig,
kid = RFC 7638 thumbprint, no 'd', x5c leaf = JWK key) and "Certificates" (SAN URI = iss,
chain to a trusted anchor). The x5c vectors are checked against the issuer URL the validator's
own key tests expect.
"""

from __future__ import annotations

import re

import pytest

from fhir_server.health_cards import from_json
from fhir_server.health_cards.errors import KeySetError
from fhir_server.health_cards.jwk_rules import load_jwks
from tests.health_cards.conftest import DEVTOOLS, read

pytestmark = pytest.mark.skipif(not DEVTOOLS.is_dir(), reason="no dev-tools vectors")

X5C_ISS = "https://smarthealth.cards/examples/issuer"
BADJWKS_ISS = ("https://raw.githubusercontent.com/microsoft/health-cards-validation-SDK/main/"
               "testdata/badjwks")
# key vectors (Spec: "Determining keys associated with an issuer", "Certificates")
BAD_KEYS = {
    "wrong_alg_key.json": r"alg 'ES256K', must be 'ES256'",
    "wrong_curve_key.json": r"crv 'P-384', must be 'P-256'",
    "wrong_kid_key.json": r"kid 'ThisIsNotTheThumbprintOfTheKey' is not the key's RFC 7638",
    "wrong_kty_key.json": r"kty 'RSA', must be 'EC'",
    "wrong_use_key.json": r"use 'enc', must be 'sig'",
    "private_key.json": r"contains private key material \('d'\)",
    "badcrl/private.json": r"contains private key material \('d'\)",
    "cert_mismatch.public.json": r"leaf certificate's public key does not match",
    "invalid_chain.public.json": r"x5c chain is broken",
    "invalid_DNS_SAN.public.json": r"has no URI entry .*not a DNS name",
    "invalid_no_SAN.public.json": r"has no Subject Alternative Name",
}
NOT_KEY_SETS = {"badjwks/.well-known/jwks.json": r"not valid JSON",
                "badcrl/.well-known/jwks.json": r"not a JWK set",
                "badcrl/public.json": r"not a JWK set"}
POSITIVE_KEYS = ("valid_key.json", "valid_keys.json", "valid_key_with_x5c.json",
                 "valid_2_chain.public.json", "issuer.jwks.public.not.smart.json")


def _matches(pattern: str, reasons: list[str]) -> bool:
    """True if one reason matches the pattern."""
    return any(re.search(pattern, r) for r in reasons)


@pytest.mark.parametrize(("name", "pattern"), sorted(BAD_KEYS.items()))
def test_bad_keys_are_rejected(name: str, pattern: str) -> None:
    """Spec key rules; x5c vectors checked against the validator's expected issuer URL."""
    doc = from_json(read(DEVTOOLS / name))
    keyset = load_jwks(doc if "keys" in doc else {"keys": [doc]}, X5C_ISS)  # one bare JWK
    assert not keyset.keys
    assert _matches(pattern, keyset.problems()), keyset.problems()


@pytest.mark.parametrize("name", sorted(p.name for p in DEVTOOLS.glob("*.public.json")))
def test_x5c_chains_are_not_trusted_without_a_trust_anchor(name: str) -> None:
    """Spec "Certificates": in PKI mode a chain must end at a configured anchor (none here)."""
    keyset = load_jwks(read(DEVTOOLS / name), X5C_ISS, anchors=())
    assert not keyset.keys
    assert keyset.problems()
    if name == "valid_2_chain.public.json":
        assert _matches(r"x5c chain is not trusted", keyset.problems())


@pytest.mark.parametrize(("name", "pattern"), sorted(NOT_KEY_SETS.items()))
def test_files_that_are_not_key_sets_are_rejected(name: str, pattern: str) -> None:
    """A JWKS must be {"keys": [...]}: the validator's badjwks is not even JSON."""
    with pytest.raises(KeySetError, match=pattern):
        load_jwks(read(DEVTOOLS / name), BADJWKS_ISS)


@pytest.mark.parametrize("name", POSITIVE_KEYS)
def test_validator_positive_keys_load(name: str) -> None:
    """The validator's valid keys (with and without x5c) load in directory-trust mode."""
    keyset = load_jwks(read(DEVTOOLS / name), X5C_ISS)
    assert keyset.keys and not keyset.problems()


def test_valid_chain_is_trusted_when_its_root_is_an_anchor() -> None:
    """PKI mode positive control: the same chain is accepted with its root as the anchor."""
    import base64

    from cryptography import x509
    from cryptography.hazmat.primitives import hashes

    doc = from_json(read(DEVTOOLS / "valid_2_chain.public.json"))
    root = x509.load_der_x509_certificate(base64.b64decode(doc["keys"][0]["x5c"][-1]))
    keyset = load_jwks(doc, X5C_ISS, anchors=[root.fingerprint(hashes.SHA256()).hex()])
    assert keyset.keys and not keyset.problems()



"""ES256 compact JWS (sign <-> verify) and the issuer KeyStore (create, rotate, publish)."""

from __future__ import annotations

import logging
import stat
from pathlib import Path

import pytest
from cryptography.hazmat.primitives.asymmetric import ec
from jwcrypto import jwk as jwcrypto_jwk
from jwcrypto import jws as jwcrypto_jws

from fhir_server.health_cards import KeyStore, KeyStoreError, deflate, from_json, to_json
from fhir_server.health_cards.errors import CardDecodeError
from fhir_server.health_cards.jwk_rules import check_public_jwk, load_jwks
from fhir_server.health_cards.jws import (
    card_header,
    header_problems,
    jwk_from_public_key,
    sign_jws,
    signature_problem,
    split_jws,
    thumbprint,
    verify_signature,
)
from tests.health_cards.conftest import NOW


def test_sign_then_verify_round_trip() -> None:
    """Spec "Health Cards are Compact": header {zip DEF, alg ES256, kid}, 64-byte r||s."""
    key = ec.generate_private_key(ec.SECP256R1())
    kid = thumbprint(jwk_from_public_key(key.public_key()))
    payload = deflate(to_json({"iss": "https://x.example", "nbf": 1}))
    jws = sign_jws(payload, key, kid)
    parts = split_jws(jws)
    assert parts.header == card_header(kid) and header_problems(parts.header) == []
    assert parts.payload == payload and len(parts.signature) == 64
    assert signature_problem(parts.signature) is None
    assert verify_signature(parts, key.public_key())
    other = ec.generate_private_key(ec.SECP256R1()).public_key()
    assert not verify_signature(parts, other)


def test_our_jws_verifies_with_an_independent_library() -> None:
    """Interoperability: jwcrypto verifies our JWS, and our thumbprint equals jwcrypto's."""
    key = ec.generate_private_key(ec.SECP256R1())
    public = jwk_from_public_key(key.public_key())
    kid = thumbprint(public)
    other = jwcrypto_jwk.JWK(**public)
    assert other.thumbprint() == kid
    token = jwcrypto_jws.JWS()
    token.deserialize(sign_jws(deflate(b"{}"), key, kid))
    token.verify(other, alg="ES256")


@pytest.mark.parametrize(("header", "reason"), [
    ({"zip": "DEF", "kid": "k"}, "no 'alg'"), ({"alg": "RS256", "zip": "DEF", "kid": "k"}, "RS256"),
    ({"alg": "ES256", "kid": "k"}, "no 'zip'"), ({"alg": "ES256", "zip": "GZ", "kid": "k"}, "GZ"),
    ({"alg": "ES256", "zip": "DEF"}, "no 'kid'")])
def test_header_rules(header: dict[str, str], reason: str) -> None:
    """Spec: alg ES256, zip DEF and kid are all required in the JWS header."""
    assert any(reason in p for p in header_problems(header))


def test_der_signature_is_recognised() -> None:
    """RFC 7515 A.3: ES256 signatures are r||s; a DER SEQUENCE is named as such."""
    der = bytes([0x30, 0x44, 0x02, 0x20]) + b"\1" * 32 + bytes([0x02, 0x20]) + b"\2" * 32
    assert "DER-encoded" in (signature_problem(der) or "")
    assert "63 bytes" in (signature_problem(b"\0" * 63) or "")


@pytest.mark.parametrize("bad", ["a.b", "a.b.c.d", "e30.e30.a=b", "!!.e30.e30", "W10.e30.e30"])
def test_split_rejects_non_compact_input(bad: str) -> None:
    """Three base64url parts, and a JSON-object header, or a clear decode error."""
    with pytest.raises(CardDecodeError):
        split_jws(bad)


def test_keystore_layout_and_permissions(tmp_path: Path) -> None:
    """Issue: private keys outside the database, files 0600 in a 0700 directory."""
    store = KeyStore(tmp_path / "keys", clock=lambda: NOW)
    info = store.create()
    assert info.status == "active" and info.created == NOW and info.crl_version == 1
    directory = tmp_path / "keys"
    assert stat.S_IMODE(directory.stat().st_mode) == 0o700
    for path in directory.rglob("*"):
        if path.is_file():
            assert stat.S_IMODE(path.stat().st_mode) == 0o600, path
    private = from_json((directory / f"{info.kid}.private.json").read_bytes())
    assert "d" in private and private["kid"] == info.kid == thumbprint(private)
    with pytest.raises(KeyStoreError, match="use rotate"):
        store.create()


def test_rotation_retires_publishes_and_destroys(keystore: KeyStore) -> None:
    """Spec "Key Management": the retired key stays in the JWKS; its private part is destroyed."""
    old = keystore.active_signing_key().kid
    new = keystore.rotate()
    assert keystore.active_signing_key().kid == new.kid != old
    assert [(k.kid, k.status) for k in keystore.list()] == [(old, "retired"), (new.kid, "active")]
    assert not (keystore.directory / f"{old}.private.json").exists()
    jwks = keystore.public_jwks()
    assert [k["kid"] for k in jwks["keys"]] == [new.kid, old]
    keyset = load_jwks(jwks, "https://x.example")
    assert set(keyset.keys) == {old, new.kid} and not keyset.problems()


def test_public_jwks_follows_the_key_rules(keystore: KeyStore) -> None:
    """Issue/spec: kty EC, crv P-256, use sig, alg ES256, kid = thumbprint, no 'd', crlVersion."""
    for jwk in keystore.public_jwks()["keys"]:
        assert {"kty": "EC", "crv": "P-256", "use": "sig", "alg": "ES256"}.items() <= jwk.items()
        assert "d" not in jwk and jwk["crlVersion"] == 1
        assert check_public_jwk(jwk).errors == []


def test_removed_key_leaves_the_jwks(keystore: KeyStore) -> None:
    """Spec: a compromised key is removed from the JWK set at once."""
    kid = keystore.active_signing_key().kid
    keystore.remove(kid)
    assert keystore.public_jwks() == {"keys": []}
    with pytest.raises(KeyStoreError):
        keystore.active_signing_key()


def test_key_material_is_never_shown(keystore: KeyStore,
                                     caplog: pytest.LogCaptureFixture) -> None:
    """Issue: never log key material; the signing key's repr shows the kid only."""
    caplog.set_level(logging.DEBUG)
    key = keystore.active_signing_key()
    d = from_json((keystore.directory / f"{key.kid}.private.json").read_bytes())["d"]
    key.sign(b"x")
    keystore.rotate()
    assert d not in repr(key) and d not in str(keystore.list()) and d not in caplog.text
    assert repr(key) == f"SigningKey(kid={key.kid!r})"


def test_missing_store_is_a_clear_error(tmp_path: Path) -> None:
    """No key yet: a KeyStoreError telling what to run, not a crash."""
    with pytest.raises(KeyStoreError, match="keys create"):
        KeyStore(tmp_path / "none").active_signing_key()

"""Revocation ids and Card Revocation Lists (spec section "Revocation")."""

from __future__ import annotations

import hashlib
import hmac
import re

import pytest

from fhir_server.health_cards import CrlError, KeyStore, from_json
from fhir_server.health_cards.encoding import b64url_encode
from fhir_server.health_cards.revocation import Crl, add_rids, check_crl, compute_rid, new_crl
from tests.health_cards.conftest import EXAMPLE_NBF, SPEC_CRL, read, requires_vectors


def test_rid_is_the_spec_hmac_construction() -> None:
    """rid = base64url(HMAC-SHA-256(secret || kid, user_id)[first 64 bits]), 11 characters."""
    secret, kid, user = b"\1" * 32, "kid-A", "vn-0001"
    expected = b64url_encode(hmac.new(secret + kid.encode(), user.encode(),
                                      hashlib.sha256).digest()[:8])
    rid = compute_rid(secret, kid, user)
    assert rid == expected and re.fullmatch(r"[A-Za-z0-9_-]{11}", rid)
    assert compute_rid(secret, "kid-B", user) != rid  # scoped by kid
    assert compute_rid(b"\2" * 32, kid, user) != rid  # not reversible without the secret


def test_crl_round_trip_and_counter() -> None:
    """CRL = {kid, method rid, ctr (starts at 1, +1 per update), rids ["rid" | "rid.ts"]}."""
    crl = new_crl("k")
    assert crl == {"kid": "k", "method": "rid", "ctr": 1, "rids": []}
    crl = add_rids(crl, ["AAAAAAAAAAA"])
    crl = add_rids(crl, ["BBBBBBBBBBB"], before=1_700_000_000)
    assert crl["ctr"] == 3 and crl["rids"] == ["AAAAAAAAAAA", "BBBBBBBBBBB.1700000000"]
    assert add_rids(crl, ["AAAAAAAAAAA"], before=5)["rids"][-1] == "AAAAAAAAAAA.5"
    parsed = Crl.parse(crl, "k", 3)
    assert parsed.is_revoked("AAAAAAAAAAA", nbf=2e9)
    assert parsed.is_revoked("BBBBBBBBBBB", nbf=1_600_000_000)
    assert not parsed.is_revoked("BBBBBBBBBBB", nbf=1_700_000_001)  # issued after the cut-off
    assert not parsed.is_revoked("CCCCCCCCCCC", nbf=0)
    with pytest.raises(ValueError):
        add_rids(crl, ["not base64url!"])


@pytest.mark.parametrize(("crl", "reason"), [
    ({"kid": "k", "method": "rid", "ctr": 1, "rids": ["a", "a.5"]}, "more than once"),
    ({"kid": "k", "method": "other", "ctr": 1, "rids": []}, "unknown CRL method"),
    ({"kid": "k", "method": "rid", "ctr": 1, "rids": ["a=="]}, "base64url"),
    ({"kid": "k", "method": "rid", "ctr": 1, "rids": ["x" * 25]}, "longer than 24"),
    ({"kid": "k", "method": "rid", "ctr": 2, "rids": []}, "does not match the key's crlVersion"),
    ({"kid": "other", "method": "rid", "ctr": 1, "rids": []}, "does not match the key's kid"),
    ({"kid": "k", "method": "rid", "ctr": 0, "rids": []}, "positive integer"),
    ({"kid": "k", "method": "rid", "ctr": 1, "rids": ["a.x"]}, "not a number"),
])
def test_crl_rules(crl: dict[str, object], reason: str) -> None:
    """Each CRL rule of the spec (and of the official validator) gives its own reason."""
    assert any(reason in p for p in check_crl(crl, "k", 1))
    with pytest.raises(CrlError, match=reason):
        Crl.parse(crl, "k", 1)


@requires_vectors
def test_spec_crl_is_valid_and_example_03_is_not_revoked_after_the_cutoff() -> None:
    """The spec issuer's CRL lists example 3's rid with a cut-off before the example's nbf."""
    crl = Crl.parse(from_json(read(SPEC_CRL)), crl_version=1)
    assert crl.entries["vwAjHdarZuc"] == 1664492124
    assert not crl.is_revoked("vwAjHdarZuc", EXAMPLE_NBF)
    assert crl.is_revoked("vwAjHdarZuc", 1664492123)


def test_keystore_revocation_updates_crl_and_crl_version(keystore: KeyStore) -> None:
    """Revoking a patient adds its kid-scoped rid to every key's CRL and bumps crlVersion."""
    kid = keystore.active_signing_key().kid
    listed = keystore.revoke("vn-0001")
    assert listed == [keystore.rid_for("vn-0001", kid)]
    crl = keystore.crl(kid)
    assert crl["ctr"] == 2 and crl["rids"] == listed and check_crl(crl, kid, 2) == []
    assert keystore.public_jwks()["keys"][0]["crlVersion"] == 2
    keystore.revoke(rid="AAAAAAAAAAA", before=123)
    assert keystore.crl(kid)["rids"][-1] == "AAAAAAAAAAA.123"
    with pytest.raises(ValueError):
        keystore.revoke()

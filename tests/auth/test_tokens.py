"""Access tokens: ES256 JWTs; alg none, wrong keys, tampering and expiry are rejected
(RFC 7519, RFC 8725 "JSON Web Token Best Current Practices" section 3.1 and 3.2)."""

from __future__ import annotations

import base64
import json
from pathlib import Path

import pytest

from fhir_server.auth.tokens import TokenSigner, load_or_create_key
from fhir_server.errors import Unauthorized


def _b64(data: dict[str, object]) -> str:
    return base64.urlsafe_b64encode(json.dumps(data).encode()).rstrip(b"=").decode()


@pytest.fixture()
def signer(tmp_path: Path) -> TokenSigner:
    return TokenSigner(load_or_create_key(tmp_path / "keys"), "https://fhir.test", lambda: 1000.0)


def test_round_trip_and_key_file_permissions(signer: TokenSigner, tmp_path: Path) -> None:
    token = signer.issue({"sub": "a", "scope": "patient/*.read"}, 60)
    claims = signer.verify(token)
    assert claims["sub"] == "a" and claims["exp"] == 1060 and claims["iss"] == "https://fhir.test"
    key_file = next((tmp_path / "keys").iterdir())
    assert key_file.stat().st_mode & 0o777 == 0o600


def test_rejections(signer: TokenSigner, tmp_path: Path) -> None:
    token = signer.issue({"sub": "a"}, 60)
    head, body, _ = token.split(".")
    other = TokenSigner(load_or_create_key(tmp_path / "other"), "https://fhir.test",
                        lambda: 1000.0)
    forged_claims = _b64({**json.loads(base64.urlsafe_b64decode(body + "==")), "sub": "b"})
    cases = {
        "alg none": f"{_b64({'alg': 'none'})}.{body}.",
        "HS256 confusion": f"{_b64({'alg': 'HS256', 'kid': signer.key['kid']})}.{body}.xx",
        "other key": other.issue({"sub": "a"}, 60),
        "tampered": f"{head}.{forged_claims}.{token.split('.')[2]}",
        "garbage": "not-a-token",
        "too long": "a" * 9000 + ".b.c",
    }
    for name, bad in cases.items():
        with pytest.raises(Unauthorized):
            signer.verify(bad)
        assert name
    late = TokenSigner(signer.key, "https://fhir.test", lambda: 2000.0)
    with pytest.raises(Unauthorized, match="expired"):
        late.verify(token)
    wrong_issuer = TokenSigner(signer.key, "https://elsewhere", lambda: 1000.0)
    with pytest.raises(Unauthorized):
        wrong_issuer.verify(token)

"""Access tokens (JWT, ES256 via jwcrypto) and the server's token signing key."""

from __future__ import annotations

import base64
import binascii
import json
import os
import secrets
import time
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, cast

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.asymmetric.utils import encode_dss_signature
from jwcrypto import jwk, jwt

from fhir_server.auth.secrets_files import write_once
from fhir_server.errors import Unauthorized

KEY_FILE = "token-signing-key.json"
CACHE_SIZE = 4096


def _b64decode(part: str) -> bytes:
    if not part or any(c in part for c in "=+/"):
        raise ValueError("not base64url")
    return base64.urlsafe_b64decode(part + "=" * (-len(part) % 4))


def load_or_create_key(directory: str | os.PathLike[str]) -> jwk.JWK:
    """The ES256 token key kept in `directory` (created 0600 on first use)."""
    path = Path(directory) / KEY_FILE
    if path.exists():
        data = json.loads(path.read_text())
    else:
        fresh = jwk.JWK.generate(kty="EC", crv="P-256")
        fresh["kid"] = fresh.thumbprint()
        data = json.loads(write_once(path, fresh.export_private().encode()))
    key = jwk.JWK(**data)
    if "kid" not in data:
        key["kid"] = key.thumbprint()
    return key


def rejected(reason: str) -> Unauthorized:
    """401 with an RFC 6750 invalid_token challenge."""
    error = Unauthorized(f"Invalid access token: {reason}")
    error.headers = {"WWW-Authenticate": f'Bearer realm="fhir", error="invalid_token", '
                                         f'error_description="{reason}"'}
    return error


@dataclass
class TokenSigner:
    """Issues and verifies this server's access tokens."""

    key: jwk.JWK
    issuer: str
    clock: Callable[[], float] = time.time

    def issue(self, claims: dict[str, Any], ttl_seconds: int) -> str:
        """A signed access token carrying these claims for ttl seconds."""
        now = int(self.clock())
        body = {"iss": self.issuer, "aud": self.issuer, "iat": now, "exp": now + ttl_seconds,
                "jti": secrets.token_urlsafe(12), **claims}
        token = jwt.JWT(header={"alg": "ES256", "kid": self.key["kid"], "typ": "JWT"},
                        claims=body)
        token.make_signed_token(self.key)
        return str(token.serialize())

    def __post_init__(self) -> None:
        self._public = cast(ec.EllipticCurvePublicKey, serialization.load_pem_public_key(
            self.key.export_to_pem()))
        self._verified: OrderedDict[str, dict[str, Any]] = OrderedDict()

    def verify(self, token: str) -> dict[str, Any]:
        """The claims of a valid token; 401 for a bad signature, alg, issuer or expiry.

        A token seen before is not verified again (an LRU of verified tokens); its expiry is.
        """
        claims = self._verified.get(token)
        if claims is None:
            claims = self._verify_signature(token)
            self._verified[token] = claims
            if len(self._verified) > CACHE_SIZE:
                self._verified.popitem(last=False)
        if int(claims["exp"]) <= self.clock():
            raise rejected("expired")
        return claims

    def _verify_signature(self, token: str) -> dict[str, Any]:
        if len(token) > 8192 or token.count(".") != 2:
            raise rejected("malformed")
        head, body, signature = token.split(".")
        try:
            header = json.loads(_b64decode(head))
            if header.get("alg") != "ES256" or header.get("kid") != self.key["kid"]:
                raise rejected("unexpected algorithm or key")
            raw = _b64decode(signature)
            if len(raw) != 64:
                raise rejected("malformed signature")
            der = encode_dss_signature(int.from_bytes(raw[:32], "big"),
                                       int.from_bytes(raw[32:], "big"))
            self._public.verify(der, f"{head}.{body}".encode("ascii"),
                                ec.ECDSA(hashes.SHA256()))
            claims: dict[str, Any] = json.loads(_b64decode(body))
        except InvalidSignature:
            raise rejected("bad signature") from None
        except (ValueError, TypeError, UnicodeError, binascii.Error):
            raise rejected("malformed") from None
        if not isinstance(claims, dict) or claims.get("iss") != self.issuer or \
                claims.get("aud") != self.issuer or not isinstance(claims.get("exp"), int):
            raise rejected("wrong issuer, audience or expiry")
        return claims

    def public_jwks(self) -> dict[str, Any]:
        """The public key set (for resource servers that verify our tokens)."""
        return {"keys": [json.loads(self.key.export_public())]}

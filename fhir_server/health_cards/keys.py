"""The issuer's signing keys, kept in a directory outside the database.

Layout (directory 0700, every file 0600, written atomically under an exclusive lock):
  keys.json            public part and status of every key: active | retired
  <kid>.private.json   the private JWK of the active key only (retired ones are destroyed)
  crl/<kid>.json       the Card Revocation List of each key
  rid.secret           the HMAC secret of revocation ids

Spec: SMART Health Cards "Key Management" (new key at least yearly; retired private keys are
destroyed; their public keys stay published while their cards are relevant; a compromised key is
removed from the JWK set) and "Revocation" (per-key CRL, crlVersion in the JWK). Key material is
never logged: SigningKey's repr shows the kid only.
"""

from __future__ import annotations

import builtins
import contextlib
import fcntl
import os
import secrets
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from cryptography.hazmat.primitives.asymmetric import ec

from fhir_server.health_cards.encoding import b64url_decode, b64url_encode, from_json, to_json
from fhir_server.health_cards.errors import KeyStoreError
from fhir_server.health_cards.jws import jwk_from_public_key, sign_jws, thumbprint
from fhir_server.health_cards.revocation import add_rids, compute_rid, new_crl


@dataclass(frozen=True)
class KeyInfo:
    """Public facts about one key (never the private part)."""

    kid: str
    status: str
    created: int
    retired: int | None
    crl_version: int


class SigningKey:
    """The active private key; signs card payloads. Its repr never shows key material."""

    __slots__ = ("kid", "_key")

    def __init__(self, kid: str, key: ec.EllipticCurvePrivateKey) -> None:
        self.kid = kid
        self._key = key

    def sign(self, payload: bytes) -> str:
        """Compact ES256 JWS of an already raw-DEFLATEd payload."""
        return sign_jws(payload, self._key, self.kid)

    def __repr__(self) -> str:
        return f"SigningKey(kid={self.kid!r})"


def _private_jwk(key: ec.EllipticCurvePrivateKey) -> dict[str, str]:
    """JWK of a P-256 private key (with d)."""
    jwk = jwk_from_public_key(key.public_key())
    jwk["d"] = b64url_encode(key.private_numbers().private_value.to_bytes(32, "big"))
    return jwk


def _load_private(jwk: dict[str, Any]) -> ec.EllipticCurvePrivateKey:
    """Inverse of _private_jwk."""
    return ec.derive_private_key(int.from_bytes(b64url_decode(jwk["d"]), "big"), ec.SECP256R1())


class KeyStore:
    """Issuer keys in a directory: create, rotate, list, sign, publish, revoke."""

    def __init__(self, directory: str | os.PathLike[str],
                 clock: Callable[[], float] = time.time) -> None:
        self.directory = Path(directory)
        self.clock = clock
        self._signing: tuple[float, SigningKey] | None = None
        self._rid_secret: bytes | None = None

    # -- files -------------------------------------------------------------------------------
    def _ensure_dir(self) -> None:
        """Create the directory (0700) or tighten its permissions."""
        (self.directory / "crl").mkdir(mode=0o700, parents=True, exist_ok=True)
        for path in (self.directory, self.directory / "crl"):
            if path.stat().st_mode & 0o077:
                path.chmod(0o700)

    def _write(self, name: str, data: bytes) -> None:
        """Atomically replace a file with data, created with mode 0600."""
        target = self.directory / name
        tmp = target.with_name(f".{target.name}.{secrets.token_hex(4)}.tmp")
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        try:
            os.write(fd, data)
            os.fsync(fd)
        finally:
            os.close(fd)
        os.replace(tmp, target)

    def _read(self, name: str) -> Any:
        """Parse a JSON file of the store, or None if it does not exist."""
        try:
            return from_json((self.directory / name).read_bytes())
        except FileNotFoundError:
            return None

    @contextlib.contextmanager
    def _locked(self) -> Iterator[None]:
        """Exclusive lock for read-modify-write (several server processes share the store)."""
        self._ensure_dir()
        fd = os.open(self.directory / ".lock", os.O_RDWR | os.O_CREAT, 0o600)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX)
            yield
        finally:
            fcntl.flock(fd, fcntl.LOCK_UN)
            os.close(fd)

    def _state(self) -> builtins.list[dict[str, Any]]:
        """The key records of keys.json (oldest first)."""
        state = self._read("keys.json")
        return list(state["keys"]) if state else []

    def _save_state(self, keys: builtins.list[dict[str, Any]]) -> None:
        """Write keys.json."""
        self._write("keys.json", to_json({"keys": keys}))

    def _new_key(self, keys: builtins.list[dict[str, Any]]) -> KeyInfo:
        """Generate a key, store its private part (0600) and an empty CRL; make it the only
        active key; only then destroy the retired keys' private parts (no window without a
        usable key for other processes)."""
        private = ec.generate_private_key(ec.SECP256R1())
        public = jwk_from_public_key(private.public_key())
        kid = thumbprint(public)
        self._write(f"{kid}.private.json", to_json({**_private_jwk(private), "kid": kid}))
        self._write(f"crl/{kid}.json", to_json(new_crl(kid)))
        retiring = [k for k in keys if k["status"] == "active"]
        for record in retiring:
            record["status"], record["retired"] = "retired", int(self.clock())
        keys.append({"kid": kid, "status": "active", "created": int(self.clock()),
                     "retired": None, "public": public})
        self._save_state(keys)
        self._signing = None
        for record in retiring:
            self._destroy(record["kid"])
        return self._info(keys[-1])

    def _info(self, record: dict[str, Any]) -> KeyInfo:
        """KeyInfo of a keys.json record."""
        return KeyInfo(record["kid"], record["status"], record["created"], record["retired"],
                       self.crl(record["kid"])["ctr"])

    # -- key lifecycle -----------------------------------------------------------------------
    def create(self) -> KeyInfo:
        """Create the first signing key; fails if an active key exists (use rotate)."""
        with self._locked():
            keys = self._state()
            if any(k["status"] == "active" for k in keys):
                raise KeyStoreError("an active signing key exists already: use rotate")
            return self._new_key(keys)

    def rotate(self) -> KeyInfo:
        """New active key; the old one is retired (still published) and its private part erased."""
        with self._locked():
            return self._new_key(self._state())

    def remove(self, kid: str) -> None:
        """Withdraw a (compromised) key: it leaves the JWK set, so its cards stop verifying."""
        with self._locked():
            keys = self._state()
            if not any(k["kid"] == kid for k in keys):
                raise KeyStoreError(f"no key {kid}")
            self._destroy(kid)
            self._save_state([k for k in keys if k["kid"] != kid])
            self._signing = None

    def _destroy(self, kid: str) -> None:
        """Overwrite then delete a private key file."""
        path = self.directory / f"{kid}.private.json"
        with contextlib.suppress(FileNotFoundError):
            size = path.stat().st_size
            with path.open("r+b") as handle:
                handle.write(b"\0" * size)
                handle.flush()
                os.fsync(handle.fileno())
            path.unlink()

    # -- use -----------------------------------------------------------------------------
    def active_signing_key(self) -> SigningKey:
        """The active private key (cached until keys.json changes)."""
        try:
            stamp = (self.directory / "keys.json").stat().st_mtime_ns
        except FileNotFoundError:
            raise KeyStoreError("no issuer key: run `fhir-server keys create`") from None
        if self._signing is not None and self._signing[0] == stamp:
            return self._signing[1]
        active = [k for k in self._state() if k["status"] == "active"]
        if not active:
            raise KeyStoreError("no active issuer key: run `fhir-server keys rotate`")
        kid = active[-1]["kid"]
        private = self._read(f"{kid}.private.json")
        if private is None:
            raise KeyStoreError(f"the private part of active key {kid} is missing")
        key = SigningKey(kid, _load_private(private))
        self._signing = (stamp, key)
        return key

    def public_jwks(self) -> dict[str, Any]:
        """The JWK set to publish at /.well-known/jwks.json: every current and retired key."""
        keys = sorted(self._state(), key=lambda k: k["status"] != "active")
        return {"keys": [{"kty": "EC", "kid": k["kid"], "use": "sig", "alg": "ES256",
                          "crv": "P-256", "x": k["public"]["x"], "y": k["public"]["y"],
                          "crlVersion": self.crl(k["kid"])["ctr"]} for k in keys]}

    # -- revocation ----------------------------------------------------------------------
    def rid_secret(self) -> bytes:
        """The HMAC secret of revocation ids (created on first use, 0600; never changes)."""
        if self._rid_secret is None:
            secret = self.directory / "rid.secret"
            with self._locked():
                if not secret.exists():
                    self._write("rid.secret", b64url_encode(secrets.token_bytes(32)).encode())
            self._rid_secret = b64url_decode(secret.read_text("ascii").strip())
        return self._rid_secret

    def rid_for(self, user_id: str, kid: str) -> str:
        """The rid of every card of user_id signed by kid (spec's HMAC construction)."""
        return compute_rid(self.rid_secret(), kid, user_id)

    def crl(self, kid: str) -> dict[str, Any]:
        """The CRL document of a key (/.well-known/crl/<kid>.json)."""
        crl = self._read(f"crl/{kid}.json")
        if crl is None:
            if not any(k["kid"] == kid for k in self._state()):
                raise KeyStoreError(f"no key {kid}")
            return new_crl(kid)
        return dict(crl)

    def revoke(self, user_id: str | None = None, *, rid: str | None = None,
               kid: str | None = None, before: int | None = None) -> builtins.list[str]:
        """Revoke the cards of a user (or one rid) under kid or every key; returns rids listed."""
        if (user_id is None) == (rid is None):
            raise ValueError("give either user_id or rid")
        secret = self.rid_secret() if user_id is not None else b""
        listed = []
        with self._locked():
            kids = [k["kid"] for k in self._state() if kid is None or k["kid"] == kid]
            if not kids:
                raise KeyStoreError(f"no key {kid}" if kid else "no issuer key")
            for each in kids:
                value = rid if rid is not None else compute_rid(secret, each, str(user_id))
                self._write(f"crl/{each}.json", to_json(add_rids(self.crl(each), [value], before)))
                listed.append(value)
        return listed

    def list(self) -> builtins.list[KeyInfo]:
        """Every published key, oldest first."""
        return [self._info(k) for k in self._state()]

"""Trusted issuers: a VCI-directory-style list of issuers with their keys and CRLs, held locally.

There is no network at run time, so every issuer's JWK set and CRLs come from files or config.
Accepted directory shapes (one JSON file):
  {"participating_issuers": [{"iss": ..., "name": ...,            # VCI directory entry
                              "keys": [...] | "jwks": {...} | "jwks_file": "rel/path.json",
                              "crls": [...] | "crl_files": ["rel/crl.json", ...]}]}
  {"participating_issuers": [{"issuer": {"iss": ..., "name": ...}, "keys": [...],
                              "crls": [...]}]}                    # VCI snapshot entry
Our own issuer is added live from the KeyStore (add_keystore), so rotation and revocation are
seen at once. A JWK set or CRL that breaks the rules is kept with its reasons, and every card that
needs it is answered "not trusted" with those reasons (spec: "Trust", "Revocation").
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from fhir_server.health_cards.encoding import from_json, to_json
from fhir_server.health_cards.errors import CardDecodeError, CrlError, KeySetError
from fhir_server.health_cards.jwk_rules import KeySet, load_jwks
from fhir_server.health_cards.keys import KeyStore
from fhir_server.health_cards.revocation import Crl


@dataclass
class TrustedIssuer:
    """One trusted issuer: its checked keys, parsed CRLs and any loading problems."""

    iss: str
    name: str
    keyset: KeySet | None = None
    crls: dict[str, Crl] = field(default_factory=dict)
    problems: list[str] = field(default_factory=list)
    crl_problems: dict[str, list[str]] = field(default_factory=dict)


Source = Callable[[], tuple[Any, list[Any]]]


class TrustedIssuers:
    """The issuers whose cards this server accepts, with their keys and revocation lists."""

    def __init__(self, *, anchors: Collection[str] | None = None,
                 now: float | None = None) -> None:
        self.anchors = anchors
        self.now = now
        self._issuers: dict[str, TrustedIssuer] = {}
        self._sources: dict[str, tuple[str, Source, bytes]] = {}

    def add(self, iss: str, name: str | None = None, jwks: Any = None,
            crls: Iterable[Any] = ()) -> TrustedIssuer:
        """Trust iss with this JWK set (object, text or bytes) and these CRL documents."""
        issuer = TrustedIssuer(iss, name or iss)
        if jwks is None:
            issuer.problems.append(f"no JWK set is configured for issuer {iss}")
        else:
            try:
                issuer.keyset = load_jwks(jwks, iss, anchors=self.anchors, now=self.now)
            except KeySetError as exc:
                issuer.problems.append(f"the JWK set of issuer {iss} is unusable: {exc.message}")
        for doc in crls:
            kid = str(doc.get("kid")) if isinstance(doc, Mapping) else "?"
            version = issuer.keyset.crl_versions.get(kid) if issuer.keyset else None
            try:
                issuer.crls[kid] = Crl.parse(doc, kid, version)
            except CrlError as exc:
                issuer.crl_problems[kid] = [exc.message]
        self._issuers[iss] = issuer
        return issuer

    def add_keystore(self, iss: str, name: str, keystore: KeyStore) -> None:
        """Trust our own issuer, reading keys and CRLs from the key store whenever they change."""
        def source() -> tuple[Any, list[Any]]:
            jwks = keystore.public_jwks()
            return jwks, [keystore.crl(k["kid"]) for k in jwks["keys"]]
        self._sources[iss] = (name, source, b"")

    def get(self, iss: str) -> TrustedIssuer | None:
        """The trusted issuer iss, or None if it is not trusted."""
        if iss in self._sources:
            name, source, seen = self._sources[iss]
            jwks, crls = source()
            stamp = to_json([jwks, crls])
            if stamp != seen or iss not in self._issuers:
                self.add(iss, name, jwks, crls)
                self._sources[iss] = (name, source, stamp)
        return self._issuers.get(iss)

    def issuers_with_kid(self, kid: str) -> list[str]:
        """The trusted issuers that publish a key with this kid."""
        for iss in list(self._sources):
            self.get(iss)
        return [i.iss for i in self._issuers.values()
                if i.keyset is not None and kid in i.keyset.checks]

    def __contains__(self, iss: object) -> bool:
        return isinstance(iss, str) and (iss in self._issuers or iss in self._sources)

    def __iter__(self) -> Any:
        return iter(list(self._issuers.values()))

    @classmethod
    def from_directory(cls, doc: Any, *, base_dir: str | Path | None = None,
                       anchors: Collection[str] | None = None,
                       now: float | None = None) -> TrustedIssuers:
        """Build from a VCI directory (or snapshot) object; relative files come from base_dir."""
        entries = doc.get("participating_issuers") if isinstance(doc, Mapping) else None
        if not isinstance(entries, list):
            raise KeySetError("a trusted-issuer directory needs a participating_issuers list")
        trusted = cls(anchors=anchors, now=now)
        base = Path(base_dir) if base_dir is not None else Path.cwd()
        for entry in entries:
            info = entry.get("issuer", entry) if isinstance(entry, Mapping) else {}
            iss = info.get("iss") if isinstance(info, Mapping) else None
            if not isinstance(iss, str):
                raise KeySetError("every participating issuer needs an iss")
            jwks, crls = _entry_material(entry, base)
            trusted.add(iss, str(info.get("name") or iss), jwks, crls)
        return trusted

    @classmethod
    def load(cls, path: str | Path, *, anchors: Collection[str] | None = None,
             now: float | None = None) -> TrustedIssuers:
        """Read a directory file (see the module docstring); paths inside are relative to it."""
        path = Path(path)
        try:
            doc = from_json(path.read_bytes())
        except CardDecodeError as exc:
            raise KeySetError(f"{path}: {exc.message}") from None
        return cls.from_directory(doc, base_dir=path.parent, anchors=anchors, now=now)


def _entry_material(entry: Mapping[str, Any], base: Path) -> tuple[Any, list[Any]]:
    """(JWK set, CRL documents) of one directory entry, inline or from files."""
    jwks: Any = None
    if isinstance(entry.get("keys"), list):
        jwks = {"keys": entry["keys"]}
    elif "jwks" in entry:
        jwks = entry["jwks"]
    elif isinstance(entry.get("jwks_file"), str):
        jwks = _read(base / entry["jwks_file"])  # parsed and checked by TrustedIssuers.add
    crls = list(entry.get("crls") or [])
    for name in entry.get("crl_files") or []:
        try:
            crls.append(from_json(_read(base / str(name))))
        except CardDecodeError as exc:
            raise KeySetError(f"CRL file {name}: {exc.message}") from None
    return jwks, crls


def _read(path: Path) -> bytes:
    """File bytes; a missing file is a configuration error (KeySetError)."""
    try:
        return path.read_bytes()
    except OSError as exc:
        raise KeySetError(f"cannot read {path}: {exc.strerror}") from None

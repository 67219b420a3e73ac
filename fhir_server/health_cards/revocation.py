"""Card revocation: revocation ids (`rid`) and per-key Card Revocation Lists (CRL).

Spec: SMART Health Cards "Revocation":
  rid = base64url(hmac-sha-256(secret_key || kid, user_id)[first 64 bits]) (RECOMMENDED form),
  1-24 characters of the base64url alphabet; the CRL of key `kid` is
  {"kid": kid, "method": "rid", "ctr": <updates, starts at 1>, "rids": ["rid" | "rid.<ts>"]},
  published at <iss>/.well-known/crl/<kid>.json, with the key's JWK carrying crlVersion = ctr.
  A card is revoked if its rid is listed, and, when the entry has a ".<timestamp>" suffix, only if
  the card's nbf is before that timestamp.
"""

from __future__ import annotations

import hashlib
import hmac
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from fhir_server.health_cards.encoding import b64url_encode
from fhir_server.health_cards.errors import CrlError

_RID = re.compile(r"[A-Za-z0-9_-]+")
MAX_RID = 24


def compute_rid(secret: bytes, kid: str, user_id: str) -> str:
    """The spec's recommended rid: first 64 bits of HMAC-SHA-256(secret || kid, user_id)."""
    mac = hmac.new(secret + kid.encode("utf-8"), user_id.encode("utf-8"), hashlib.sha256)
    return b64url_encode(mac.digest()[:8])


def new_crl(kid: str) -> dict[str, Any]:
    """An empty CRL for a new key (ctr starts at 1)."""
    return {"kid": kid, "method": "rid", "ctr": 1, "rids": []}


def add_rids(crl: Mapping[str, Any], rids: Iterable[str], before: int | None = None
             ) -> dict[str, Any]:
    """A new CRL with rids added (optionally as 'rid.<before>') and ctr incremented."""
    listed = list(crl["rids"])
    known = {entry.split(".", 1)[0] for entry in listed}
    added = False
    for rid in rids:
        if not _RID.fullmatch(rid) or len(rid) > MAX_RID:
            raise ValueError(f"invalid rid {rid!r}")
        if rid in known:
            listed = [e for e in listed if e.split(".", 1)[0] != rid]
        listed.append(rid if before is None else f"{rid}.{int(before)}")
        known.add(rid)
        added = True
    if not added:
        return dict(crl)
    return {"kid": crl["kid"], "method": "rid", "ctr": int(crl["ctr"]) + 1, "rids": listed}


def check_crl(crl: Any, kid: str | None = None, crl_version: int | None = None) -> list[str]:
    """Why a CRL document breaks the spec (wrong kid, method, ctr, malformed or duplicate rid)."""
    if not isinstance(crl, Mapping):
        return ["CRL is not a JSON object"]
    problems = []
    if not isinstance(crl.get("kid"), str):
        problems.append("CRL kid is missing")
    elif kid is not None and crl["kid"] != kid:
        problems.append(f"CRL kid {crl['kid']!r} does not match the key's kid {kid!r}")
    if crl.get("method") != "rid":
        problems.append(f"unknown CRL method {crl.get('method')!r} (only 'rid' is defined)")
    ctr = crl.get("ctr")
    if isinstance(ctr, bool) or not isinstance(ctr, int) or ctr < 1:
        problems.append("CRL ctr must be a positive integer")
    elif crl_version is not None and ctr != crl_version:
        problems.append(f"CRL ctr {ctr} does not match the key's crlVersion {crl_version}")
    rids = crl.get("rids")
    if not isinstance(rids, list):
        return problems + ["CRL rids must be a list"]
    seen: set[str] = set()
    for entry in rids:
        if not isinstance(entry, str):
            problems.append(f"CRL rid entry {entry!r} is not a string")
            continue
        rid, _, stamp = entry.partition(".")
        if not _RID.fullmatch(rid):
            problems.append(f"CRL rid {entry!r} does not use the base64url alphabet")
        elif len(rid) > MAX_RID:
            problems.append(f"CRL rid {entry!r} is longer than {MAX_RID} characters")
        if "." in entry and not stamp.isdigit():
            problems.append(f"CRL rid {entry!r} has a timestamp suffix that is not a number")
        if rid in seen:
            problems.append(f"CRL lists rid {rid!r} more than once")
        seen.add(rid)
    return problems


@dataclass(frozen=True)
class Crl:
    """A validated CRL: rid -> revocation cut-off (None = every card with that rid)."""

    kid: str
    ctr: int
    entries: Mapping[str, int | None]

    @classmethod
    def parse(cls, crl: Any, kid: str | None = None, crl_version: int | None = None) -> Crl:
        """Validate with check_crl and index the rids; raises CrlError with every problem."""
        problems = check_crl(crl, kid, crl_version)
        if problems:
            raise CrlError("invalid CRL: " + "; ".join(problems))
        entries: dict[str, int | None] = {}
        for entry in crl["rids"]:
            rid, _, stamp = entry.partition(".")
            entries[rid] = int(stamp) if stamp else None
        return cls(crl["kid"], crl["ctr"], entries)

    def is_revoked(self, rid: str, nbf: float) -> bool:
        """True if a card with this rid and nbf is revoked by this list."""
        if rid not in self.entries:
            return False
        cutoff = self.entries[rid]
        return cutoff is None or nbf < cutoff

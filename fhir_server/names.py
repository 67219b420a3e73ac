"""Person names compared as people write them: case, spacing and Unicode form aside
(record linking at registration, Patient/$match)."""

from __future__ import annotations

import unicodedata
from typing import Any


def folded(text: str) -> str:
    """'  Phạm  VĂN bình' -> 'phạm văn bình' (NFC, casefolded, single spaces)."""
    return " ".join(unicodedata.normalize("NFC", text).casefold().split())


def full_names(patient: dict[str, Any]) -> set[str]:
    """A Patient's names in full (HumanName.text, else family + given), folded."""
    found = set()
    for name in patient.get("name") or ():
        if isinstance(name, dict):
            text = name.get("text") or " ".join(
                [name.get("family") or "", *(name.get("given") or [])])
            found.add(folded(str(text)))
    return found - {""}


def families(patient: dict[str, Any]) -> set[str]:
    """A Patient's family names, folded."""
    return {folded(n["family"]) for n in patient.get("name") or ()
            if isinstance(n, dict) and n.get("family")}

"""Shared constants of the profiles/ generator: canonical bases, metadata, identifier systems."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from fhir_server.settings import Settings

ROOT = Path(__file__).resolve().parents[1]
# Placeholder canonical bases: NOT published or endorsed by the Viet Nam Ministry of Health.
BASE = "https://fhir.moh.gov.vn/fhir"
TERMINOLOGY = "https://fhir.moh.gov.vn/terminology"
SD = f"{BASE}/StructureDefinition"
VS = f"{BASE}/ValueSet"
CUSTOM_RULE = f"{SD}/validation-custom-rule"
PUBLISHER = "fhir_server project (unofficial; not published by the Viet Nam Ministry of Health)"
VERSION = "0.1.0"
DATE = "2025-07-01"
SNOMED = "http://snomed.info/sct"
SERIOUSNESS = "http://terminology.hl7.org/CodeSystem/adverse-event-seriousness"
REACTION = f"{TERMINOLOGY}/CodeSystem/vn-post-vaccination-reaction"

_DEFAULTS = Settings()
SYSTEMS = {"cccd": _DEFAULTS.cccd_system, "cmnd": _DEFAULTS.cmnd_system,
           "bhyt": _DEFAULTS.bhyt_system, "bhxh": _DEFAULTS.bhxh_system,
           "passport": _DEFAULTS.passport_system}


def common(status: str = "active") -> dict[str, Any]:
    """Metadata every generated conformance resource carries."""
    return {"version": VERSION, "status": status, "experimental": False, "date": DATE,
            "publisher": PUBLISHER,
            "jurisdiction": [{"coding": [{"system": "urn:iso:std:iso:3166", "code": "VN",
                                          "display": "Viet Nam"}]}]}


def constraint(key: str, human: str, expression: str | None = None, severity: str = "error",
               rule: str | None = None) -> dict[str, Any]:
    """An ElementDefinition.constraint: a FHIRPath invariant or a named custom rule."""
    out: dict[str, Any] = {"key": key, "severity": severity, "human": human}
    if expression is not None:
        out["expression"] = expression
    if rule is not None:
        out["extension"] = [{"url": CUSTOM_RULE, "valueCode": rule}]
    return out


def terminology(kind: str, name: str) -> str:
    """A canonical URL of the terminology/ folder."""
    return f"{TERMINOLOGY}/{kind}/{name}"


def dump(resource: dict[str, Any]) -> bytes:
    """Deterministic JSON: sorted keys, one-space indent, UTF-8, trailing newline."""
    text = json.dumps(resource, ensure_ascii=False, indent=1, sort_keys=True)
    return (text + "\n").encode("utf-8")

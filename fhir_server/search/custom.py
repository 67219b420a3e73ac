"""This server's own SearchParameters (profiles/searchparameters, made by
profiles/scripts/make_profiles.py), searched and indexed like the official R4 ones.

- QuestionnaireResponse `area` (token): the province and commune answered in a health
  declaration (`contact.province`, `contact.commune`), so authorities search declarations by
  area: `QuestionnaireResponse?questionnaire=...&authored=ge2021-08-01&area=01`.
- Patient `province` and `commune` (token): the 2025 units of an address (extensions
  vn-address-province, vn-address-commune), chained from any reference to a Patient:
  `Immunization?patient.province=01`.
- Appointment `priority-group` (token): the vn-priority-group extension of a registration.
"""

from __future__ import annotations

from functools import cache
from pathlib import Path
from typing import Any

import orjson

FOLDER = Path(__file__).resolve().parents[2] / "profiles" / "searchparameters"


@cache
def _definitions() -> tuple[dict[str, Any], ...]:
    return tuple(orjson.loads(path.read_bytes()) for path in sorted(FOLDER.glob("*.json")))


def custom_parameters_for(type_name: str) -> dict[str, dict[str, Any]]:
    """code -> custom SearchParameter of one resource type (shared: don't mutate)."""
    return {d["code"]: d for d in _definitions() if type_name in d.get("base", ())}

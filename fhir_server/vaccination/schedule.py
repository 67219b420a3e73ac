"""Dose schedules of the vaccines in use, read from the vn-covid19-vaccine CodeSystem
(terminology/codesystems): each concept's `series-doses`, `interval-min-days` and
`interval-max-days` properties, found by its own code or by its CVX code."""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache
from typing import Any

import orjson

from fhir_server.terminology.store import DEFAULT_ROOT

VN_VACCINES = "https://fhir.moh.gov.vn/terminology/CodeSystem/vn-covid19-vaccine"
CVX = "http://hl7.org/fhir/sid/cvx"


@dataclass(frozen=True)
class Schedule:
    """How many doses a vaccine's primary series has, and the days between them."""

    system: str
    code: str
    display: str
    doses: int
    min_days: int
    max_days: int


@cache
def _schedules() -> dict[tuple[str, str], Schedule]:
    system = orjson.loads((DEFAULT_ROOT / "codesystems" / "vn-covid19-vaccine.json").read_bytes())
    found: dict[tuple[str, str], Schedule] = {}
    for concept in system["concept"]:
        values = {p["code"]: next(v for k, v in p.items() if k.startswith("value"))
                  for p in concept.get("property", [])}
        doses = int(values.get("series-doses", 1))
        minimum = int(values.get("interval-min-days", 0))
        schedule = Schedule(VN_VACCINES, concept["code"], concept["display"], doses, minimum,
                            int(values.get("interval-max-days", minimum)))
        found[(VN_VACCINES, concept["code"])] = schedule
        if "cvx" in values:
            found.setdefault((CVX, str(values["cvx"])), schedule)
    return found


def schedule_of(vaccine_code: dict[str, Any] | None) -> Schedule | None:
    """The schedule of an Immunization.vaccineCode (any of its codings), or None."""
    for coding in (vaccine_code or {}).get("coding", []):
        found = _schedules().get((str(coding.get("system")), str(coding.get("code"))))
        if found is not None:
            return found
    return None

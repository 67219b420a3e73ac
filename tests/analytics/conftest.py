"""A small synthetic campaign (fixed seed number) written through the Repository, shared by the
analytics tests of one module, and an independent tally of it made from the stored resources."""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date
from typing import Any

import pytest
from flask import Flask

from fhir_server.interactions.context import Services
from fhir_server.search.criteria import EVERYTHING
from fhir_server.synthetic.writer import SeedOptions, seed_campaign

PROVINCE_URL = "https://fhir.moh.gov.vn/fhir/StructureDefinition/vn-address-province"
GROUP_URL = "https://fhir.moh.gov.vn/fhir/StructureDefinition/vn-priority-group"
TODAY = date(2022, 6, 30)


def campaign_services(make_app: Callable[..., Flask], people: int) -> Services:
    """An app on its own database holding a seeded campaign of `people` (seed number 7)."""
    svc: Services = make_app().extensions["fhir"].internal()
    seed_campaign(svc, SeedOptions(people, seed_number=7, progress=False, today=TODAY))
    return svc


def stored(svc: Services, type_name: str) -> list[dict[str, Any]]:
    """Every current resource of a type."""
    return [v.resource for v in svc.store.find(type_name, EVERYTHING) if v.resource]


def _ref(element: Any) -> str:
    return str((element or {}).get("reference", "")).split("/")[-1]


@dataclass
class Tally:
    """Counts made directly from the resources, by plain Python over them (the oracle)."""

    province: dict[str, str] = field(default_factory=dict)   # patient -> province
    group: dict[str, str] = field(default_factory=dict)      # patient -> group
    doses: list[dict[str, Any]] = field(default_factory=list)  # completed Immunizations
    registered: set[str] = field(default_factory=set)

    def people_with(self, predicate: Callable[[int, int], bool]) -> int:
        """People whose (completed doses, series) satisfy the predicate."""
        by_person: dict[str, list[dict[str, Any]]] = {}
        for dose in self.doses:
            by_person.setdefault(_ref(dose["patient"]), []).append(dose)
        return sum(1 for doses in by_person.values() if predicate(
            len(doses), doses[0]["protocolApplied"][0]["seriesDosesPositiveInt"]))

    def doses_by(self, key: Callable[[dict[str, Any]], str]) -> Counter[str]:
        """Completed doses counted by a key of the dose."""
        return Counter(key(dose) for dose in self.doses)


def tally(svc: Services) -> Tally:
    """The oracle of a stored campaign."""
    found = Tally()
    for patient in stored(svc, "Patient"):
        ext = patient["address"][0]["extension"]
        found.province[patient["id"]] = next(e["valueCoding"]["code"] for e in ext
                                             if e["url"] == PROVINCE_URL)
    for appointment in stored(svc, "Appointment"):
        group = [e["valueCoding"]["code"] for e in appointment.get("extension", [])
                 if e["url"] == GROUP_URL]
        if group and appointment["status"] not in ("cancelled", "entered-in-error", "noshow"):
            person = next(_ref(p["actor"]) for p in appointment["participant"]
                          if p["actor"]["reference"].startswith("Patient/"))
            found.group[person] = group[0]
            found.registered.add(person)
    found.doses = [d for d in stored(svc, "Immunization") if d["status"] == "completed"]
    found.doses.sort(key=lambda d: d["occurrenceDateTime"])
    return found


@pytest.fixture(scope="module")
def campaign(make_app: Callable[..., Flask]) -> Services:
    """A seeded campaign of 40 people on its own database (one per test module)."""
    return campaign_services(make_app, 40)

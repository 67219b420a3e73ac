"""A synthetic person's campaign (issue 15 point 6): a vn-appointment-vaccination registration
(scheduling/registration.py builds it), doses on the vaccine's schedule (vaccination/schedule.py:
primary series at interval-min..max days, a booster 90-180 days after it), and now and then a
post-vaccination reaction (vn-adverse-event-immunization; 1 in 100 serious).

About 8 % register and are not vaccinated yet (the Appointment stays `proposed`); the others'
registration is `fulfilled` by their first dose. Refs are placeholders ("#person", "#dose-i")
the writer replaces with the stored ids.
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Any

from fhir_server.scheduling.registration import PRIORITY_SYSTEM, Registration, appointment
from fhir_server.synthetic.people import SD, SYNTHETIC_TAG, TERMINOLOGY, Person
from fhir_server.vaccination.schedule import VN_VACCINES, Schedule, _schedules

VACCINES = (("sinopharm-verocell", 35), ("astrazeneca", 30), ("pfizer-biontech", 20),
            ("moderna", 10), ("sputnik-v", 2), ("abdala", 1), ("hayat-vax", 1), ("janssen", 1))
BOOSTERS = (("pfizer-biontech", 60), ("moderna", 30), ("astrazeneca", 10))
MILD = ("sot", "dau-cho-tiem", "met-moi", "dau-dau", "sung-cho-tiem", "dau-co", "on-lanh")
SERIOUS = ("phan-ve", "viem-co-tim", "co-giat", "kho-tho")
SERIOUSNESS = "http://terminology.hl7.org/CodeSystem/adverse-event-seriousness"
REACTIONS = f"{TERMINOLOGY}/vn-post-vaccination-reaction"


@dataclass(frozen=True)
class Site:
    """A vaccination site: its Location id, its vaccinators' Practitioner ids, its province."""

    location: str
    vaccinators: tuple[str, ...]
    province: str


@dataclass
class Campaign:
    """One person's registration, doses and reactions (dose index for each reaction)."""

    registration: dict[str, Any]
    doses: list[dict[str, Any]] = field(default_factory=list)
    reactions: list[tuple[int, dict[str, Any]]] = field(default_factory=list)


def schedule(code: str) -> Schedule:
    """The schedule of a vn-covid19-vaccine code."""
    return _schedules()[(VN_VACCINES, code)]


def lot(code: str, rng: random.Random) -> str:
    """One of the 12 lots of a vaccine in this campaign."""
    return f"{code[:2].upper()}{sum(map(ord, code)) % 90 + 10}{rng.randint(1, 12):02d}"


def _dose(vaccine: Schedule, number: int, given: datetime, site: Site, rng: random.Random,
          series: int) -> dict[str, Any]:
    return {
        "resourceType": "Immunization", "meta": {"profile": [f"{SD}/vn-immunization"],
                                                 "tag": [SYNTHETIC_TAG]},
        "status": "completed",
        "vaccineCode": {"coding": [{"system": vaccine.system, "code": vaccine.code,
                                    "display": vaccine.display}]},
        "patient": {"reference": "#person"}, "occurrenceDateTime": given.isoformat(),
        "primarySource": True, "location": {"reference": f"Location/{site.location}"},
        "lotNumber": lot(vaccine.code, rng),
        "performer": [{"actor": {"reference": f"Practitioner/{rng.choice(site.vaccinators)}"}}],
        "protocolApplied": [{"targetDisease": [{"coding": [
            {"system": "http://snomed.info/sct", "code": "840539006"}]}],
            "doseNumberPositiveInt": number, "seriesDosesPositiveInt": series}]}


def _reaction(dose: dict[str, Any], rng: random.Random) -> dict[str, Any]:
    serious = rng.random() < 0.01
    code = rng.choice(SERIOUS if serious else MILD)
    given = datetime.fromisoformat(dose["occurrenceDateTime"])
    grade = "serious" if serious else "non-serious"
    return {"resourceType": "AdverseEvent", "meta": {
        "profile": [f"{SD}/vn-adverse-event-immunization"], "tag": [SYNTHETIC_TAG]},
        "actuality": "actual", "event": {"coding": [{"system": REACTIONS, "code": code}]},
        "subject": {"reference": "#person"},
        "date": (given + timedelta(hours=rng.randint(2, 48))).isoformat(),
        "seriousness": {"coding": [{"system": SERIOUSNESS, "code": grade}]},
        "location": dose["location"], "suspectEntity": [{"instance": {"reference": "#dose"}}]}


def _when(day: date, rng: random.Random) -> datetime:
    return datetime.fromisoformat(f"{day.isoformat()}T{rng.randint(7, 16):02d}:"
                                  f"{rng.randint(0, 59):02d}:00+07:00")


def campaign(person: Person, site: Site, start: date, today: date, rng: random.Random,
             reaction_rate: float = 0.03) -> Campaign:
    """The person's registration and the doses given by `today` (the window opens at start)."""
    span = max((today - start).days, 1)
    registered = start + timedelta(days=int(span * rng.random() ** 1.5))  # early rush
    waiting = rng.random() < 0.08
    preferred = registered + timedelta(days=rng.randint(1, 14))
    group = {"system": PRIORITY_SYSTEM, "code": person.group}
    booked = appointment(Registration("#person", site.location, person.group, preferred),
                         group, _when(registered, rng))
    booked["participant"][0]["actor"]["reference"] = "#person"
    booked["meta"]["tag"] = [SYNTHETIC_TAG]
    result = Campaign(booked)
    if waiting or preferred > today:
        return result
    booked["status"] = "fulfilled"
    vaccine = schedule(rng.choices([v for v, _ in VACCINES], [w for _, w in VACCINES])[0])
    day = preferred
    for number in range(1, vaccine.doses + 1):
        if day > today or (number > 1 and rng.random() < 0.05):  # not yet due, or dropped out
            break
        result.doses.append(_dose(vaccine, number, _when(day, rng), site, rng, vaccine.doses))
        late = rng.randint(0, 30) if rng.random() < 0.1 else 0
        day += timedelta(days=rng.randint(vaccine.min_days, vaccine.max_days) + late)
    if len(result.doses) == vaccine.doses and rng.random() < 0.6:
        day = day - timedelta(days=vaccine.min_days) + timedelta(days=rng.randint(90, 180))
        if day <= today:
            booster = schedule(rng.choices([v for v, _ in BOOSTERS], [w for _, w in BOOSTERS])[0])
            result.doses.append(_dose(booster, vaccine.doses + 1, _when(day, rng), site, rng,
                                      vaccine.doses))
    for index, dose in enumerate(result.doses):
        if rng.random() < reaction_rate:
            result.reactions.append((index, _reaction(dose, rng)))
    return result

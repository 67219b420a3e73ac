"""Patient/$match (R4 patient-operation-match.html): score the stored Patients that may be the
person a site or hospital describes, so it updates that record instead of making a second one.

Candidates are the Patients sharing a national or other identifier, a phone number, or the
family name with the birth date. Each is scored from what agrees and what contradicts:

- an identifier of the same system and value: +0.6 (national numbers name one person);
  the same system with another value: certainly not that person;
- the birth date: +0.15 when equal, -0.4 when both are known and differ;
- the name: +0.15 for the same full name (case, spacing and Unicode form aside), +0.05 for the
  family name only; gender +0.05 (-0.2 when both known and differ); a shared phone +0.05.

Grades (extension match-grade): certain >= 0.9, probable >= 0.6, possible >= 0.3; lower scores
and contradicting identifiers are left out. `onlyCertainMatches` keeps certain ones only, and
`count` limits the entries (best first).
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from fhir_server.errors import Forbidden, InvalidRequest
from fhir_server.health_cards.identity import may_verify
from fhir_server.interactions.context import Services
from fhir_server.model.parse import validate_resource
from fhir_server.names import families, full_names
from fhir_server.operations.registry import OperationCall, OperationResult, operation

GRADE_URL = "http://hl7.org/fhir/StructureDefinition/match-grade"
GRADES = ((0.9, "certain"), (0.6, "probable"), (0.3, "possible"))
MAX_CANDIDATES = 50


def _identifiers(patient: dict[str, Any]) -> set[tuple[str, str]]:
    return {(str(i["system"]), str(i["value"])) for i in patient.get("identifier") or ()
            if i.get("system") and i.get("value")}


def _phones(patient: dict[str, Any]) -> set[str]:
    return {str(t["value"]).replace(" ", "") for t in patient.get("telecom") or ()
            if t.get("system") == "phone" and t.get("value")}


def score(asked: dict[str, Any], stored: dict[str, Any]) -> float | None:
    """How likely the stored Patient is the person asked about (None: certainly not)."""
    ours, theirs = _identifiers(asked), _identifiers(stored)
    if any(s == system and v != value for s, v in theirs for system, value in ours) and \
            not ours & theirs:
        return None  # the same system with another value: another person
    total = 0.6 if ours & theirs else 0.0
    if asked.get("birthDate") and stored.get("birthDate"):
        total += 0.15 if asked["birthDate"] == stored["birthDate"] else -0.4
    if full_names(asked) & full_names(stored):
        total += 0.15
    elif families(asked) & families(stored):
        total += 0.05
    if asked.get("gender") and stored.get("gender"):
        total += 0.05 if asked["gender"] == stored["gender"] else -0.2
    if _phones(asked) & _phones(stored):
        total += 0.05
    return round(max(0.0, min(1.0, total)), 2)


def grade(value: float) -> str | None:
    """The match grade of a score (None below 'possible')."""
    return next((name for floor, name in GRADES if value >= floor), None)


def _queries(asked: dict[str, Any]) -> Iterable[list[tuple[str, str]]]:
    for system, value in sorted(_identifiers(asked)):
        if "|" not in system + value and "," not in value:
            yield [("identifier", f"{system}|{value}")]
    for phone in sorted(_phones(asked)):
        if phone.replace("+", "").isdigit():
            yield [("phone", phone)]
    if asked.get("birthDate"):
        for family in sorted(families(asked)):
            if "," not in family and "$" not in family:
                yield [("family", family), ("birthdate", str(asked["birthDate"]))]


@operation("match", type_level=True, types=("Patient",), methods=("POST",),
           documentation="Score stored Patients that may be the person described (resource: "
                         "a Patient; onlyCertainMatches, count), with match grades")
def match(svc: Services, call: OperationCall) -> OperationResult:
    """A searchset Bundle of scored candidates, best first (sites, hospitals, systems)."""
    caller = svc.caller
    if not may_verify(caller.kind, caller.roles if caller.kind == "staff" else None):
        raise Forbidden("Patient matching is for vaccination sites, hospitals and systems")
    given = call.require("resource")
    if not isinstance(given, dict) or given.get("resourceType") != "Patient":
        raise InvalidRequest.at("'resource' must be a Patient", "resource", "value")
    asked = validate_resource(given, "Patient")
    only_certain = call.first("onlyCertainMatches") in (True, "true")
    count = call.first("count", MAX_CANDIDATES)
    if not isinstance(count, int) and not (isinstance(count, str) and count.isdigit()):
        raise InvalidRequest.at("'count' must be a positive integer", "count", "value")
    scored: dict[str, tuple[float, dict[str, Any]]] = {}
    for params in _queries(asked):
        criteria = svc.search.criteria_for("Patient", params)
        for version in svc.store.find("Patient", criteria, limit=MAX_CANDIDATES):
            stored = dict(version.resource or {})
            value = score(asked, stored)
            if value is not None and grade(value) and version.id not in scored:
                scored[version.id] = (value, stored)
    ranked = sorted(scored.values(), key=lambda pair: -pair[0])
    if only_certain:
        ranked = [pair for pair in ranked if grade(pair[0]) == "certain"]
    ranked = ranked[:max(1, min(int(count), MAX_CANDIDATES))]
    base = svc.settings.base_url
    return OperationResult({"resourceType": "Bundle", "type": "searchset", "total": len(ranked),
                            "entry": [_entry(base, value, stored) for value, stored in ranked]})


def _entry(base: str, value: float, stored: dict[str, Any]) -> dict[str, Any]:
    return {"fullUrl": f"{base}/Patient/{stored['id']}", "resource": stored,
            "search": {"mode": "match", "score": value, "extension": [
                {"url": GRADE_URL, "valueCode": grade(value)}]}}

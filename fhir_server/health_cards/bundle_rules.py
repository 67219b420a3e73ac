"""Structural and data-minimisation checks of a card's FHIR Bundle; each problem is a sentence.

Spec: SMART Health Cards "Payload content minified for QR codes" (no id, meta other than
meta.security, text, CodeableConcept.text, Coding.display; `resource:N` fullUrls and references)
plus the FHIR R4 JSON rules the official validator enforces (no empty values, required elements,
one occurrence[x], valid codes and dates) and the Vaccination IG rule that a card carries only
completed immunizations of exactly one Patient.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

_SHORT_URI = re.compile(r"resource:(0|[1-9][0-9]*)")
_DATE = re.compile(r"\d{4}(-(0[1-9]|1[0-2])(-(0[1-9]|[12][0-9]|3[01]))?)?")
_DATETIME = re.compile(
    r"\d{4}(-(0[1-9]|1[0-2])(-(0[1-9]|[12][0-9]|3[01])"
    r"(T([01][0-9]|2[0-3]):[0-5][0-9]:([0-5][0-9]|60)(\.[0-9]+)?(Z|[+-]\d{2}:\d{2}))?)?)?"
)
_CODEABLE = frozenset({
    "vaccineCode", "code", "valueCodeableConcept", "category", "reasonCode", "route", "site",
    "statusReason", "fundingSource", "programEligibility", "maritalStatus", "relationship",
    "interpretation", "method", "bodySite", "dataAbsentReason", "type", "clinicalStatus",
    "verificationStatus", "severity", "form", "targetDisease", "subpotentReason",
})
_REFERENCE = frozenset({"patient", "subject", "actor", "location", "manufacturer",
                        "managingOrganization", "encounter", "organization"})
_CODING_KEYS = frozenset({"id", "extension", "system", "version", "code", "display",
                          "userSelected"})
_IMMUNIZATION_STATUS = ("completed", "entered-in-error", "not-done")


def check_bundle(bundle: Any) -> list[str]:
    """Every rule the bundle breaks, as readable sentences (empty list = acceptable)."""
    if not isinstance(bundle, Mapping) or bundle.get("resourceType") != "Bundle":
        return ["credentialSubject.fhirBundle is not a FHIR Bundle"]
    problems: list[str] = []
    _walk(bundle, "Bundle", problems, parent_key="")
    if "id" in bundle:
        problems.append("Bundle.id must not be present (data minimisation: no Resource.id)")
    if not isinstance(bundle.get("type"), str):
        problems.append("Bundle.type is required")
    entries = bundle.get("entry")
    if not isinstance(entries, list) or not entries:
        problems.append("Bundle.entry must list the card's resources")
        return problems
    full_urls = [e.get("fullUrl") for e in entries if isinstance(e, Mapping)]
    patients = 0
    for i, entry in enumerate(entries):
        where = f"Bundle.entry[{i}]"
        if not isinstance(entry, Mapping) or not isinstance(entry.get("resource"), Mapping):
            problems.append(f"{where}.resource is missing")
            continue
        url = entry.get("fullUrl")
        if not (isinstance(url, str) and _SHORT_URI.fullmatch(url)):
            problems.append(f"{where}.fullUrl {url!r} must be a short resource-scheme URI "
                            "such as 'resource:0'")
        elif full_urls.count(url) > 1:
            problems.append(f"{where}.fullUrl {url!r} is used by more than one entry")
        resource = entry["resource"]
        rtype = resource.get("resourceType")
        patients += rtype == "Patient"
        problems += _check_resource(resource, f"{where}.resource({rtype})", full_urls)
    if patients != 1:
        problems.append(f"the bundle must contain exactly one Patient (found {patients})")
    return problems


def _check_resource(res: Mapping[str, Any], where: str, full_urls: list[Any]) -> list[str]:
    """Minimisation rules common to every resource, then the per-type rules."""
    problems: list[str] = []
    if not isinstance(res.get("resourceType"), str):
        problems.append(f"{where}.resourceType is missing")
    if "id" in res:
        problems.append(f"{where}.id must not be present (data minimisation)")
    if "text" in res:
        problems.append(f"{where}.text must not be present (data minimisation)")
    if "meta" in res:
        problems += _check_meta(res["meta"], f"{where}.meta")
    for path, ref in _references(res, where):
        if not isinstance(ref, str) or not _SHORT_URI.fullmatch(ref):
            problems.append(f"{path}.reference {ref!r} must be a short resource-scheme URI "
                            "such as 'resource:0'")
        elif ref not in full_urls:
            problems.append(f"{path}.reference {ref!r} points at no entry of the bundle")
    rtype = res.get("resourceType")
    if rtype == "Immunization":
        problems += _check_immunization(res, where)
    elif rtype == "Patient":
        if "birthDate" in res and not _is_date(res["birthDate"]):
            problems.append(f"{where}.birthDate is not a FHIR date")  # value: personal
    elif rtype == "Observation":
        if not res.get("status"):
            problems.append(f"{where}.status is required")
        problems += _check_concept(res.get("code"), f"{where}.code")
    return problems


def _check_meta(meta: Any, where: str) -> list[str]:
    """meta may only carry security labels (spec: '.meta.security is included and no other')."""
    if not isinstance(meta, Mapping):
        return [f"{where} must not be present (data minimisation), and must be an object"]
    problems = []
    extra = sorted(set(meta) - {"security"})
    if extra:
        problems.append(f"{where} may only contain 'security' (found {', '.join(extra)})")
    security = meta.get("security")
    if "security" in meta and not isinstance(security, list):
        problems.append(f"{where}.security must be a list of Codings")
    return problems


def _check_immunization(imm: Mapping[str, Any], where: str) -> list[str]:
    """Required elements and the Vaccination IG's 'completed only' rule."""
    problems: list[str] = []
    status = imm.get("status")
    if status is None:
        problems.append(f"{where}.status is required")
    elif status not in _IMMUNIZATION_STATUS:
        problems.append(f"{where}.status {status!r} is not a valid code (codes are "
                        f"case-sensitive: {', '.join(_IMMUNIZATION_STATUS)})")
    elif status != "completed":
        problems.append(f"{where}.status is {status!r}: a health card carries only "
                        "completed immunizations")
    problems += _check_concept(imm.get("vaccineCode"), f"{where}.vaccineCode")
    if not isinstance(imm.get("patient"), Mapping):
        problems.append(f"{where}.patient (a Reference) is required")
    occurrences = [k for k in imm if k.startswith("occurrence")]
    if not occurrences:
        problems.append(f"{where}.occurrence[x] is required")
    elif len(occurrences) > 1:
        problems.append(f"{where} has more than one occurrence[x] ({', '.join(occurrences)})")
    when = imm.get("occurrenceDateTime")
    if when is not None and not (isinstance(when, str) and _DATETIME.fullmatch(when)):
        problems.append(f"{where}.occurrenceDateTime {when!r} is not a FHIR dateTime")
    for i, performer in enumerate(imm.get("performer") or []):
        if isinstance(performer, Mapping) and not isinstance(performer.get("actor"), Mapping):
            problems.append(f"{where}.performer[{i}].actor (a Reference) is required")
    return problems


def _check_concept(concept: Any, where: str) -> list[str]:
    """A required CodeableConcept with at least one coding that has system and code."""
    if not isinstance(concept, Mapping):
        return [f"{where} is required"]
    codings = concept.get("coding")
    if not isinstance(codings, list) or not codings:
        return [f"{where}.coding is required (at least one system + code)"]
    problems = []
    for i, coding in enumerate(codings):
        if not isinstance(coding, Mapping):
            continue
        missing = [k for k in ("system", "code") if not coding.get(k)]
        if missing:
            problems.append(f"{where}.coding[{i}] has no {' or '.join(missing)}")
    return problems


def _references(node: Any, where: str) -> list[tuple[str, Any]]:
    """(path, value) of every Reference.reference below node."""
    found: list[tuple[str, Any]] = []
    if isinstance(node, Mapping):
        if "reference" in node:
            found.append((where, node["reference"]))
        for key, value in node.items():
            if key != "reference":
                found += _references(value, f"{where}.{key}")
    elif isinstance(node, list):
        for i, item in enumerate(node):
            found += _references(item, f"{where}[{i}]")
    return found


def _walk(node: Any, where: str, problems: list[str], parent_key: str) -> None:
    """FHIR JSON rules on every element: no empty values, typed elements, minimised concepts."""
    if node is None:
        problems.append(f"{where} is null (FHIR JSON does not allow null)")
    elif isinstance(node, str):
        if node == "":
            problems.append(f"{where} is an empty string (FHIR JSON does not allow it)")
    elif isinstance(node, list):
        if not node:
            problems.append(f"{where} is an empty array (FHIR JSON does not allow it)")
        for i, item in enumerate(node):
            _walk(item, f"{where}[{i}]", problems, parent_key)
    elif isinstance(node, Mapping):
        if not node:
            problems.append(f"{where} is an empty object (FHIR JSON does not allow it)")
        if parent_key in ("coding", "security", "tag", "valueCoding"):
            _check_coding(node, where, problems)
        elif (parent_key in _CODEABLE or "coding" in node) and "text" in node:
            problems.append(f"{where}.text must not be present (CodeableConcept.text, "
                            "data minimisation)")
        for key, value in node.items():
            if key in _REFERENCE and not isinstance(value, Mapping | list):
                problems.append(f"{where}.{key} must be a Reference object, "
                                f"not {type(value).__name__}")
            if key != "div":
                _walk(value, f"{where}.{key}", problems, key)


def _check_coding(coding: Mapping[str, Any], where: str, problems: list[str]) -> None:
    """Coding: only the R4 Coding elements, and no display (data minimisation)."""
    unknown = sorted(k for k in coding
                     if k not in _CODING_KEYS and k.removeprefix("_") not in _CODING_KEYS)
    if unknown:
        problems.append(f"{where} has element(s) {', '.join(unknown)} that a Coding "
                        "does not define")
    if "display" in coding:
        problems.append(f"{where}.display must not be present (Coding.display, "
                        "data minimisation)")


def _is_date(value: Any) -> bool:
    """True for a FHIR date (YYYY, YYYY-MM or YYYY-MM-DD)."""
    return isinstance(value, str) and _DATE.fullmatch(value) is not None

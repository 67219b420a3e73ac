"""The citizen completes their own record (issue 14 point 2): birth date, gender, CCCD, BHXH,
BHYT and name, in the same request schema as a family member. Once the record has what the VN
Patient profile requires (an identifier, name, gender, birth date) it claims that profile in
`meta.profile`, so every later write of it is checked against the whole profile.
"""

from __future__ import annotations

from typing import Any

from fhir_server.auth.accounts import known_fields
from fhir_server.auth.people import account_identifiers, fields_named, human_name
from fhir_server.errors import InvalidRequest
from fhir_server.interactions import crud
from fhir_server.interactions.context import Services
from fhir_server.validation.identifier_rules import VN_PATIENT

PROFILE_FIELDS = frozenset({"full_name", "birthDate", "gender", "cccd", "bhxh", "bhyt"})
REQUIRED = ("identifier", "name", "gender", "birthDate")


def missing(patient: dict[str, Any]) -> list[str]:
    """What the VN Patient profile still needs of this record."""
    return [name for name in REQUIRED if not patient.get(name)]


def describe(patient: dict[str, Any]) -> dict[str, Any]:
    """The app's view of a record: its fields, whether it is complete, and what is missing."""
    names = patient.get("name") or [{}]
    return {"patient": patient.get("id"), "name": names[0].get("text"),
            "birthDate": patient.get("birthDate"), "gender": patient.get("gender"),
            "identifier": patient.get("identifier", []),
            "complete": not missing(patient), "missing": missing(patient),
            "profile": VN_PATIENT in (patient.get("meta") or {}).get("profile", [])}


def read_profile(svc: Services, account: dict[str, Any]) -> dict[str, Any]:
    """The citizen's own record as the app shows it."""
    return describe(dict(crud.read(svc, "Patient", account["patient"]).resource or {}))


def update_profile(svc: Services, account: dict[str, Any], body: dict[str, Any]
                   ) -> dict[str, Any]:
    """Apply the given fields to the citizen's own Patient (as the citizen: verified identity
    stays locked); claim the VN profile once complete."""
    known_fields(body, PROFILE_FIELDS)
    if not body:
        raise InvalidRequest("Send at least one of " + ", ".join(sorted(PROFILE_FIELDS)),
                             code="required")
    current = crud.read(svc, "Patient", account["patient"])
    patient = dict(current.resource or {})
    if "full_name" in body:
        name = body["full_name"]
        if not isinstance(name, str) or not name.strip() or len(name) > 200:
            raise InvalidRequest.at("'full_name' is 1 to 200 characters", "full_name", "value")
        patient["name"] = [human_name(name)]
    patient.update({k: body[k] for k in ("birthDate", "gender") if k in body})
    given = account_identifiers(svc.settings, body)
    if given:
        kept = [i for i in patient.get("identifier", []) if i.get("system") not in given]
        patient["identifier"] = kept + [{"system": s, "value": v} for s, v in given.items()]
    if not missing(patient):
        meta = dict(patient.get("meta") or {})
        meta["profile"] = sorted({*meta.get("profile", []), VN_PATIENT})
        patient["meta"] = meta
    with fields_named([k for k in ("cccd", "bhxh", "bhyt") if body.get(k)]):
        stored = crud.update(svc, "Patient", account["patient"], patient,
                             if_match=current.version)
    return describe(dict(stored.version.resource or patient))

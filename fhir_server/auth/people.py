"""The FHIR side of accounts: the Patient made at registration and family members."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from fhir_server.auth.principal import INTERNAL_PRINCIPAL, acting_as
from fhir_server.auth.record_link import IsLinked, existing_record
from fhir_server.errors import FhirError, InvalidRequest
from fhir_server.interactions import crud
from fhir_server.interactions.context import Services
from fhir_server.settings import Settings

RELATIONSHIP_SYSTEM = "http://terminology.hl7.org/CodeSystem/v3-RoleCode"
RELATIONSHIPS = {"MTH": "mother", "FTH": "father", "SON": "natural son", "DAU": "natural daughter",
                 "CHILD": "child", "SPS": "spouse", "HUSB": "husband", "WIFE": "wife",
                 "GRMTH": "grandmother", "GRFTH": "grandfather", "SIB": "sibling",
                 "GRNDCHILD": "grandchild", "FAMMEMB": "family member"}


def human_name(full_name: str) -> dict[str, Any]:
    """'Nguyễn Văn An' -> family 'Nguyễn', given ['Văn', 'An'] (Vietnamese order)."""
    parts = full_name.split()
    name: dict[str, Any] = {"use": "official", "text": " ".join(parts), "family": parts[0]}
    if len(parts) > 1:
        name["given"] = parts[1:]
    return name


def account_identifiers(settings: Settings, fields: dict[str, Any]) -> dict[str, str]:
    """identifier system -> value of the national numbers a registration gave."""
    systems = {"cccd": settings.cccd_system, "bhxh": settings.bhxh_system,
               "bhyt": settings.bhyt_system}
    return {systems[k]: str(fields[k]) for k in ("cccd", "bhxh", "bhyt") if fields.get(k)}


def _patient(full_name: str, details: dict[str, Any], phone: str | None,
             identifiers: dict[str, str]) -> dict[str, Any]:
    patient: dict[str, Any] = {"resourceType": "Patient", "active": True,
                               "name": [human_name(full_name)]}
    if identifiers:
        patient["identifier"] = [{"system": system, "value": value}
                                 for system, value in identifiers.items()]
    if phone:
        patient["telecom"] = [{"system": "phone", "value": phone, "use": "mobile"}]
    for key in ("gender", "birthDate"):
        if details.get(key):
            patient[key] = details[key]
    return patient


def account_patient(settings: Settings, account: dict[str, Any]) -> dict[str, Any]:
    """The Patient a registration describes (checked before any code is sent)."""
    return _patient(account["name"], account.get("details", {}), account["phone"],
                    account_identifiers(settings, account))


def create_account_patient(svc: Services, account: dict[str, Any],
                           is_linked: IsLinked = lambda _id: False) -> str:
    """The Patient of a newly confirmed account: the site's record of this person when there
    is one (record_link.py), else a new one; returns its id."""
    proposed = account_patient(svc.settings, account)
    server = svc.internal()
    with acting_as(INTERNAL_PRINCIPAL):
        existing = existing_record(server, account["phone"], proposed, is_linked)
        if existing is not None:
            return existing
        return crud.create(server, "Patient", proposed).version.id


def create_family_member(svc: Services, holder: dict[str, Any], body: dict[str, Any]
                         ) -> tuple[str, str]:
    """A Patient for the member and a RelatedPerson (the holder, with the relationship code)."""
    name = body.get("full_name")
    relationship = str(body.get("relationship", "")).upper()
    if not isinstance(name, str) or not name.strip() or len(name) > 200:
        raise InvalidRequest.at("'full_name' is required", "full_name", "required")
    if relationship not in RELATIONSHIPS:
        raise InvalidRequest.at("relationship must be a v3 RoleCode such as "
                                + ", ".join(sorted(RELATIONSHIPS)), "relationship", "code-invalid")
    details: dict[str, Any] = {k: body[k] for k in ("gender", "birthDate") if k in body}
    svc = svc.internal()  # the account service writes the member's records as the server

    def both() -> tuple[str, str]:  # one transaction, re-run by the store on a conflict
        member = crud.create(svc, "Patient", _patient(name, details, None, {})).version.id
        related = crud.create(svc, "RelatedPerson", {
            "resourceType": "RelatedPerson", "active": True,
            "patient": {"reference": f"Patient/{member}"},
            "relationship": [{"coding": [{"system": RELATIONSHIP_SYSTEM, "code": relationship,
                                          "display": RELATIONSHIPS[relationship]}]}],
            "name": [human_name(holder["name"])],
            "telecom": [{"system": "phone", "value": holder["phone"]}]}).version.id
        return member, related

    with acting_as(INTERNAL_PRINCIPAL):
        return svc.store.transact(both)


def check_registration(svc: Services, pending: dict[str, Any]) -> None:
    """The would-be Patient of a registration passes the write rules (identifiers, gender,
    birth date): 422 naming the registration's own fields, before any code is sent."""
    fields = [k for k in ("cccd", "bhxh", "bhyt") if pending.get(k)]
    try:
        svc.checked(account_patient(svc.settings, pending), "Patient")
    except FhirError as exc:
        exc.issues = [replace(issue, expression=tuple(_field(e, fields)
                                                      for e in issue.expression))
                      for issue in exc.issues]
        raise


def _field(expression: str, fields: list[str]) -> str:
    """'Patient.identifier[1].value' -> the second identifier field given ('bhxh')."""
    if expression.startswith("Patient.identifier["):
        index = int(expression[len("Patient.identifier["):].split("]", 1)[0])
        return fields[index] if index < len(fields) else "identifier"
    if expression.startswith("Patient."):
        return expression[len("Patient."):].split(".", 1)[0].split("[", 1)[0]
    return expression

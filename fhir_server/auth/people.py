"""The FHIR side of accounts: the Patient made at registration and family members."""

from __future__ import annotations

from typing import Any

from fhir_server.auth.principal import INTERNAL_PRINCIPAL, acting_as
from fhir_server.errors import InvalidRequest
from fhir_server.interactions import crud
from fhir_server.interactions.context import Services

RELATIONSHIP_SYSTEM = "http://terminology.hl7.org/CodeSystem/v3-RoleCode"
RELATIONSHIPS = {"MTH": "mother", "FTH": "father", "SON": "natural son", "DAU": "natural daughter",
                 "CHILD": "child", "SPS": "spouse", "HUSB": "husband", "WIFE": "wife",
                 "GRMTH": "grandmother", "GRFTH": "grandfather", "SIB": "sibling",
                 "GRNDCHILD": "grandchild", "FAMMEMB": "family member"}
BHXH_SYSTEM = "urn:vn:bhxh"


def human_name(full_name: str) -> dict[str, Any]:
    """'Nguyễn Văn An' -> family 'Nguyễn', given ['Văn', 'An'] (Vietnamese order)."""
    parts = full_name.split()
    name: dict[str, Any] = {"use": "official", "text": " ".join(parts), "family": parts[0]}
    if len(parts) > 1:
        name["given"] = parts[1:]
    return name


def _patient(full_name: str, details: dict[str, Any], phone: str | None,
             bhxh: str | None) -> dict[str, Any]:
    patient: dict[str, Any] = {"resourceType": "Patient", "active": True,
                               "name": [human_name(full_name)]}
    if bhxh:
        patient["identifier"] = [{"system": BHXH_SYSTEM, "value": bhxh}]
    if phone:
        patient["telecom"] = [{"system": "phone", "value": phone, "use": "mobile"}]
    for key in ("gender", "birthDate"):
        if details.get(key):
            patient[key] = details[key]
    return patient


def create_account_patient(svc: Services, account: dict[str, Any]) -> str:
    """The Patient for a newly confirmed account; returns its id."""
    with acting_as(INTERNAL_PRINCIPAL):
        result = crud.create(svc.internal(), "Patient", _patient(
            account["name"], account.get("details", {}), account["phone"], account.get("bhxh")))
    return result.version.id


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
        member = crud.create(svc, "Patient", _patient(name, details, None, None)).version.id
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

"""Family members of a citizen account: add, list, update, unlink (the FHIR side).

Each member is a Patient with the holder as its RelatedPerson (family.py says which way the
relationship code points). Adding writes both in one transaction as the server; updating
writes as the citizen, so the Repository's rules and the verified-identity lock apply; unlinking
ends the link (RelatedPerson inactive, the member out of the account) and keeps the member's
record and its history.
"""

from __future__ import annotations

from typing import Any

from fhir_server.auth.accounts import known_fields
from fhir_server.auth.family import (
    ACCOUNT_SYSTEM,
    MEMBER_FIELDS,
    holder_role,
    member_codes,
    member_role,
    related_person,
    relationship_codes,
)
from fhir_server.auth.people import account_identifiers, fields_named, human_name, new_patient
from fhir_server.auth.principal import INTERNAL_PRINCIPAL, acting_as
from fhir_server.errors import Conflict, InvalidRequest, NotFound
from fhir_server.interactions import crud
from fhir_server.interactions.context import Services

DETAILS = ("birthDate", "gender")


def _relationship(body: dict[str, Any]) -> str:
    code = str(body.get("relationship", "")).upper()
    if code not in member_codes():
        raise InvalidRequest.at("relationship is what the member is to you, one of "
                                + ", ".join(member_codes()), "relationship", "code-invalid")
    return code


def _name(body: dict[str, Any]) -> str:
    name = body.get("full_name")
    if not isinstance(name, str) or not name.strip() or len(name) > 200:
        raise InvalidRequest.at("'full_name' is required (at most 200 characters)",
                                "full_name", "required")
    return name


def _identifier_fields(body: dict[str, Any]) -> list[str]:
    return [k for k in ("cccd", "bhxh", "bhyt") if body.get(k)]


def _holder(svc: Services, account: dict[str, Any]) -> dict[str, Any]:
    return crud.read(svc.internal(), "Patient", account["patient"]).resource or {}


def add_member(svc: Services, account: dict[str, Any], body: dict[str, Any]
               ) -> tuple[str, str]:
    """A Patient for the member and the holder as its RelatedPerson; (member, related)."""
    known_fields(body, MEMBER_FIELDS)
    name, code = _name(body), _relationship(body)
    details = {k: body[k] for k in DETAILS if k in body}
    proposed = new_patient(name, details, None, account_identifiers(svc.settings, body))
    server = svc.internal()
    for member in list_members(svc, account):
        if human_name(name)["text"].casefold() == str(member["name"]).casefold() and \
                member.get("birthDate") == details.get("birthDate"):
            raise Conflict.at(f"{name} is in your family already (Patient/{member['patient']})",
                              "full_name", "duplicate")
    holder = _holder(svc, account)

    def both() -> tuple[str, str]:  # one transaction, re-run by the store on a conflict
        member_id = crud.create(server, "Patient", proposed).version.id
        role = holder_role(code, holder.get("gender"))
        related = crud.create(server, "RelatedPerson", related_person(
            member_id, role, account, human_name(account["name"]))).version.id
        return member_id, related

    with acting_as(INTERNAL_PRINCIPAL), fields_named(_identifier_fields(body)):
        return server.store.transact(both)


def _link(svc: Services, account: dict[str, Any], member_id: str) -> dict[str, Any] | None:
    """The holder's RelatedPerson of a member (by account, else by the holder's phone)."""
    server = svc.internal()
    for params in ([("patient", f"Patient/{member_id}"),
                    ("identifier", f"{ACCOUNT_SYSTEM}|{account['_id']}")],
                   [("patient", f"Patient/{member_id}"), ("phone", account["phone"])]):
        criteria = server.search.criteria_for("RelatedPerson", params)
        found = [v.resource for v in server.store.find("RelatedPerson", criteria, limit=5)
                 if v.resource and v.resource.get("active", True)]
        if found:
            return dict(found[0])
    return None


def list_members(svc: Services, account: dict[str, Any]) -> list[dict[str, Any]]:
    """Each linked member: Patient id, RelatedPerson id, name, details and relationship."""
    members = []
    for member_id in account.get("family", []):
        patient = crud.read(svc.internal(), "Patient", member_id).resource or {}
        link = _link(svc, account, member_id) or {}
        stored = next((c.get("code") for r in link.get("relationship", [])
                       for c in r.get("coding", [])), None)
        code = member_role(stored, patient.get("gender")) if stored else None
        names = patient.get("name") or [{}]
        entry = {"patient": member_id, "relatedPerson": link.get("id"),
                 "name": names[0].get("text") or " ".join(
                     [names[0].get("family", ""), *names[0].get("given", [])]).strip(),
                 "relationship": code,
                 "relationshipDisplay": relationship_codes().get(code or "", (None, None))[1]}
        entry.update({k: patient[k] for k in DETAILS if k in patient})
        members.append(entry)
    return members


def _member_of(account: dict[str, Any], member_id: str) -> None:
    if member_id not in account.get("family", []):
        raise NotFound(f"Patient/{member_id} is not in your family")


def update_member(svc: Services, account: dict[str, Any], member_id: str,
                  body: dict[str, Any]) -> dict[str, Any]:
    """Change a member's name, details, identifiers or relationship (as the citizen)."""
    _member_of(account, member_id)
    known_fields(body, MEMBER_FIELDS)
    current = crud.read(svc, "Patient", member_id)
    patient = dict(current.resource or {})
    if "full_name" in body:
        patient["name"] = [human_name(_name(body))]
    patient.update({k: body[k] for k in DETAILS if k in body})
    given = account_identifiers(svc.settings, body)
    if given:
        kept = [i for i in patient.get("identifier", []) if i.get("system") not in given]
        patient["identifier"] = kept + [{"system": s, "value": v} for s, v in given.items()]
    code = _relationship(body) if "relationship" in body else None

    def write() -> None:
        with fields_named(_identifier_fields(body)):
            crud.update(svc, "Patient", member_id, patient, if_match=current.version)
        link = _link(svc, account, member_id)
        if code is not None and link is not None:
            holder = _holder(svc, account)
            role = holder_role(code, holder.get("gender"))
            updated = related_person(member_id, role, account, (link.get("name") or [{}])[0])
            crud.update(svc.internal(), "RelatedPerson", link["id"], {**updated,
                                                                       "id": link["id"]})

    svc.store.transact(write)
    return next(m for m in list_members(svc, account) if m["patient"] == member_id)


def unlink_member(svc: Services, account: dict[str, Any], member_id: str) -> None:
    """End the family link: the RelatedPerson becomes inactive; the records stay."""
    _member_of(account, member_id)
    link = _link(svc, account, member_id)
    if link is not None:
        with acting_as(INTERNAL_PRINCIPAL):
            crud.update(svc.internal(), "RelatedPerson", link["id"], {**link, "active": False})

"""The FHIR side of accounts: the Patient made at registration and family members."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import replace
from typing import Any

from fhir_server.auth.principal import INTERNAL_PRINCIPAL, acting_as
from fhir_server.auth.record_link import IsLinked, existing_record
from fhir_server.errors import FhirError
from fhir_server.interactions import crud
from fhir_server.interactions.context import Services
from fhir_server.settings import Settings


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


def new_patient(full_name: str, details: dict[str, Any], phone: str | None,
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
    return new_patient(account["name"], account.get("details", {}), account["phone"],
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


def check_registration(svc: Services, pending: dict[str, Any]) -> None:
    """The would-be Patient of a registration passes the write rules (identifiers, gender,
    birth date): 422 naming the registration's own fields, before any code is sent."""
    with fields_named([k for k in ("cccd", "bhxh", "bhyt") if pending.get(k)]):
        svc.checked(account_patient(svc.settings, pending), "Patient")


@contextmanager
def fields_named(fields: list[str]) -> Iterator[None]:
    """Errors about the Patient built from a request name the request's fields instead."""
    try:
        yield
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

"""One person, one record at registration: an account joins the Patient a vaccination site
already made for this person instead of a new, empty one (issue 14 point 1).

The SMS code proves the phone, and only the phone. So the existing Patient is joined when it
carries that phone and the same person's name (and birth date, and national identifiers, when
both sides have them), and no other account holds it. A national identifier (CCCD, BHXH, BHYT)
that an existing record holds without that phone proves nothing about who registers (the
numbers are printed on cards): it is refused with 409 and the way forward (a vaccination site
verifies identity and links the record), rather than joined (a takeover) or duplicated.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any

from fhir_server.auth.phones import national_form
from fhir_server.errors import Conflict, FhirError
from fhir_server.interactions.context import Services
from fhir_server.names import full_names

IsLinked = Callable[[str], bool]


def _identifiers(patient: dict[str, Any]) -> dict[str, str]:
    return {str(i.get("system")): str(i.get("value")) for i in patient.get("identifier") or ()
            if isinstance(i, dict) and i.get("system") and i.get("value")}


def _agrees(existing: dict[str, Any], proposed: dict[str, Any]) -> bool:
    """Same name; birth date and identifiers do not contradict each other."""
    if not full_names(existing) & full_names(proposed):
        return False
    if existing.get("birthDate") and proposed.get("birthDate") and \
            existing["birthDate"] != proposed["birthDate"]:
        return False
    theirs, ours = _identifiers(existing), _identifiers(proposed)
    return all(theirs[system] == value for system, value in ours.items() if system in theirs)


def _found(svc: Services, params: Iterable[tuple[str, str]]) -> list[dict[str, Any]]:
    found: dict[str, dict[str, Any]] = {}
    for name, value in params:
        criteria = svc.search.criteria_for("Patient", [(name, value)])
        for version in svc.store.find("Patient", criteria, limit=20):
            if version.resource is not None:
                found.setdefault(version.id, dict(version.resource))
    return list(found.values())


def existing_record(svc: Services, phone: str, proposed: dict[str, Any],
                    is_linked: IsLinked) -> str | None:
    """The id of the Patient this registration joins, None for a new one (409 when a record
    holds its national identifier without its phone). `svc` acts as the server."""
    by_phone = [p for p in _found(svc, [("phone", phone), ("phone", national_form(phone))])
                if not is_linked(p["id"]) and _agrees(p, proposed)]
    if len(by_phone) > 1:
        raise _ask_a_site("Several records carry this phone and name")
    if by_phone:
        return str(by_phone[0]["id"])
    held = _found(svc, [("identifier", f"{system}|{value}")
                        for system, value in _identifiers(proposed).items()])
    if held:
        raise _ask_a_site("A record with this identifier exists with another phone number")
    return None


def _ask_a_site(reason: str) -> FhirError:
    return Conflict(f"{reason}: to join it, show your identity card at a vaccination site, "
                    "which verifies it and links your account (no second record is made)")


def patients_with_identifier(svc: Services, system: str, value: str) -> list[str]:
    """Ids of the Patients holding this identifier (a lookup the server makes for login)."""
    if not value.isalnum():
        return []
    server = svc.internal()
    criteria = server.search.criteria_for("Patient", [("identifier", f"{system}|{value}")])
    return [version.id for version in server.store.find("Patient", criteria, limit=5)]

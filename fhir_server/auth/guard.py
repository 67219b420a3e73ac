"""The one access guard: every interaction and operation asks it before acting.

Decisions, by the kind of caller (see principal.py):
- internal (server start-up, CLI): everything.
- anonymous: nothing that touches data (401); public endpoints never reach the guard.
- system (SMART Backend Services client): what its system/ scopes grant, all patients.
- staff: user/ scopes and role — admin: everything (incl. AuditEvent); practitioner (site):
  clinical data of any patient, no AuditEvent; analyst: shared reference data and MeasureReport.
- citizen: patient/ scopes, only inside the compartments of their own Patient and their
  linked family members; shared reference data (sites, practitioners, questionnaires,
  terminology) is readable. Resources outside the compartments answer 404, never 403, so ids
  of other people cannot be discovered.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from fhir_server.auth.compartment import compartment_filter, compartment_params, in_compartment
from fhir_server.auth.principal import (
    ANONYMOUS,
    CITIZEN,
    INTERNAL,
    STAFF,
    SYSTEM,
    Principal,
    current_principal,
)
from fhir_server.errors import Forbidden, NotFound, Unauthorized

SHARED = frozenset({"Organization", "Location", "Practitioner", "PractitionerRole",
                    "Questionnaire", "Schedule", "Slot", "CodeSystem", "ValueSet", "ConceptMap",
                    "StructureDefinition"})
CITIZEN_WRITABLE = frozenset({"Patient", "RelatedPerson", "AdverseEvent",
                              "QuestionnaireResponse", "Appointment", "Communication"})
ADMIN_ONLY = frozenset({"AuditEvent"})
NOT_FOR_CITIZENS = frozenset({"Group"})  # cohorts list many people: never shown to a citizen
ANALYST_READABLE = SHARED | {"MeasureReport"}
_CONTEXTS = {CITIZEN: ("patient",), STAFF: ("user",), SYSTEM: ("system",)}
_VERBS = {"r": "read", "s": "search", "c": "create", "u": "update", "d": "delete"}


def unauthorized() -> Unauthorized:
    """401 with the WWW-Authenticate challenge."""
    error = Unauthorized("Authentication required: send a Bearer access token")
    error.headers = {"WWW-Authenticate": 'Bearer realm="fhir"'}
    return error


def _forbid(principal: Principal, action: str, type_name: str) -> Forbidden:
    return Forbidden(f"{principal.kind} may not {_VERBS.get(action, action)} {type_name}")


def check_type(action: str, type_name: str, principal: Principal | None = None) -> Principal:
    """Check that the caller may do `action` (c r u d s) on this type at all; return it."""
    principal = principal or current_principal()
    if principal.kind == INTERNAL:
        return principal
    if principal.kind == ANONYMOUS:
        raise unauthorized()
    if not principal.scopes.allows(type_name, action, _CONTEXTS.get(principal.kind, ())):
        raise Forbidden(f"The token's scopes do not allow {_VERBS.get(action, action)} on "
                        f"{type_name}")
    if principal.kind == SYSTEM or "admin" in principal.roles:
        return principal
    if type_name in ADMIN_ONLY:
        raise _forbid(principal, action, type_name)
    if principal.kind == STAFF:
        if "practitioner" in principal.roles:
            return principal
        if "analyst" in principal.roles and action in "rs" and type_name in ANALYST_READABLE:
            return principal
        raise _forbid(principal, action, type_name)
    if type_name in NOT_FOR_CITIZENS:
        raise _forbid(principal, action, type_name)
    if type_name in SHARED:
        if action in "rs":
            return principal
        raise _forbid(principal, action, type_name)
    if action in "cud" and type_name not in CITIZEN_WRITABLE:
        raise _forbid(principal, action, type_name)
    if not compartment_params(type_name) and type_name != "Patient":
        raise _forbid(principal, action, type_name)
    return principal


def restricted_to_compartment(principal: Principal, type_name: str) -> bool:
    """True when this caller only sees the compartments of its patients for this type."""
    return principal.kind == CITIZEN and type_name not in SHARED


def check_resource(action: str, type_name: str, resource: Mapping[str, Any] | None,
                   base_url: str, principal: Principal | None = None) -> None:
    """Check one existing (or proposed) resource; a hidden one answers 404."""
    principal = check_type(action, type_name, principal)
    if resource is None or not restricted_to_compartment(principal, type_name):
        return
    if not in_compartment(type_name, resource, principal.patient_ids, base_url):
        if action == "c":
            raise Forbidden(f"A {type_name} may only be written for your own or your family "
                            "members' records")
        raise NotFound(f"{type_name}/{resource.get('id', '?')} is not known")


def search_restriction(type_name: str) -> dict[str, Any] | None:
    """The filter ANDed into every search of this type for the current caller (or None)."""
    principal = current_principal()
    if principal.kind == INTERNAL:
        return None
    check_type("s", type_name, principal)
    if restricted_to_compartment(principal, type_name):
        return compartment_filter(type_name, principal.patient_ids)
    return None


def may_see(type_name: str, resource: Mapping[str, Any] | None, base_url: str) -> bool:
    """Whether the caller may see a resource (for filtering lists such as history)."""
    try:
        check_resource("r", type_name, resource, base_url)
    except (Forbidden, NotFound, Unauthorized):
        return False
    return True


def check_write(action: str, type_name: str, proposed: Mapping[str, Any],
                current: Mapping[str, Any] | None, base_url: str) -> None:
    """An update/patch/create: the caller must see the current version (404 otherwise) and the
    proposed content must stay inside its compartments (403 otherwise)."""
    principal = check_type(action, type_name)
    if not restricted_to_compartment(principal, type_name):
        return
    if current is not None and not in_compartment(type_name, current, principal.patient_ids,
                                                  base_url):
        raise NotFound(f"{type_name}/{current.get('id', '?')} is not known")
    if not in_compartment(type_name, proposed, principal.patient_ids, base_url):
        raise Forbidden(f"A {type_name} may only be written for your own or your family "
                        "members' records")


def check_history(type_name: str | None) -> None:
    """Type- and system-level history: staff (practitioner, admin) and system clients only."""
    principal = current_principal()
    if principal.kind == INTERNAL:
        return
    if principal.kind == ANONYMOUS:
        raise unauthorized()
    if principal.kind == CITIZEN or "analyst" in principal.roles and "admin" not in principal.roles:
        raise Forbidden("History across resources is not available to this account")
    if type_name is None and principal.kind != SYSTEM and "admin" not in principal.roles:
        raise Forbidden("System history is for administrators")
    if type_name is not None:
        check_type("r", type_name, principal)


def check_operation(access: str, type_name: str | None, resource: Mapping[str, Any] | None,
                    base_url: str) -> None:
    """An $operation's access rule: public, authenticated, instance-read or admin."""
    principal = current_principal()
    if access == "public" or principal.kind == INTERNAL:
        return
    if principal.kind == ANONYMOUS:
        raise unauthorized()
    if access == "instance-read" and type_name is not None:
        check_resource("r", type_name, resource, base_url, principal)
    elif access == "admin" and principal.kind != SYSTEM and "admin" not in principal.roles:
        raise Forbidden("This operation is for administrators and system clients")

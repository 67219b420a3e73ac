"""The one access guard: every interaction and operation asks it before acting.

Decisions, by the kind of caller (see principal.py):
- internal (server start-up, CLI): everything.
- anonymous: nothing that touches data (401); public endpoints never reach the guard.
- system (SMART Backend Services client): what its system/ scopes grant, all patients.
- staff: user/ scopes and role — admin: everything (incl. AuditEvent); practitioner (site):
  clinical data of any patient and the shared directory, not the admin-only types nor writes
  of conformance definitions; analyst: shared reference data and MeasureReport.
- citizen: patient/ scopes, only inside the compartments of their own Patient and their
  linked family members; shared reference data (sites, practitioners, questionnaires,
  terminology) is readable. Resources outside the compartments answer 404, never 403, so ids
  of other people cannot be discovered (that per-resource rule lives in access.py, applied by
  the Repository to every resource in and out).

The type classes follow from the generated spec data (spec/resource_types.json: the R4
security category of each type; spec/compartments.json: the Patient CompartmentDefinition):
- SHARED: category anonymous, business or individual and outside the Patient compartment
  (directory, terminology, conformance and definitional resources), plus Schedule (a directory
  entry whose actor may be a patient); Subscription excepted (it sends data out: admin only).
- clinical: every type in the Patient compartment (Group, a cohort, hidden from citizens).
- ADMIN_ONLY: AuditEvent, Subscription and every other type (neither shared nor in the Patient
  compartment: Binary, Bundle, Task, MessageHeader, Person, Linkage...).
- DEFINITIONS: the SHARED types of category anonymous (conformance, terminology, knowledge
  artifacts) are written by admins and system clients only, except the four practitioners
  wrote before every type was stored (CodeSystem, ValueSet, ConceptMap, StructureDefinition).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from fhir_server.auth.compartment import compartment_params
from fhir_server.auth.principal import (
    ANONYMOUS,
    CITIZEN,
    INTERNAL,
    STAFF,
    SYSTEM,
    Principal,
    current_principal,
)
from fhir_server.errors import Forbidden, Unauthorized
from fhir_server.resource_types import RESOURCE_TYPES, security_category
from fhir_server.spec import patient_compartment

SHARED_CATEGORIES = frozenset({"anonymous", "business", "individual"})
_IN_PATIENT_COMPARTMENT = frozenset(patient_compartment())
SHARED = frozenset(
    name for name in RESOURCE_TYPES
    if security_category(name) in SHARED_CATEGORIES and name not in _IN_PATIENT_COMPARTMENT
    and name != "Subscription") | {"Schedule"}
CITIZEN_WRITABLE = frozenset({"Patient", "RelatedPerson", "AdverseEvent",
                              "QuestionnaireResponse", "Appointment", "Communication"})
ADMIN_ONLY = frozenset({"AuditEvent"}) | frozenset(
    name for name in RESOURCE_TYPES if name not in SHARED and name not in _IN_PATIENT_COMPARTMENT)
SITE_DEFINITIONS = frozenset({"CodeSystem", "ValueSet", "ConceptMap", "StructureDefinition"})
DEFINITIONS = frozenset(name for name in SHARED if security_category(name) == "anonymous"
                        ) - SITE_DEFINITIONS
NOT_FOR_CITIZENS = frozenset({"Group"}) | ADMIN_ONLY  # cohorts list many people
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
        if "practitioner" in principal.roles and not (action in "cud" and type_name in
                                                      DEFINITIONS):
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



def check_history(type_name: str | None, principal: Principal | None = None) -> None:
    """Type- and system-level history: staff (practitioner, admin) and system clients only."""
    principal = principal or current_principal()
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
                    base_url: str, principal: Principal | None = None) -> None:
    """An $operation's access rule: public, authenticated, instance-read or admin."""
    principal = principal or current_principal()
    if access == "public" or principal.kind == INTERNAL:
        return
    if principal.kind == ANONYMOUS:
        raise unauthorized()
    if access == "instance-read" and type_name is not None:
        check_type("r", type_name, principal)  # the instance itself was read through the door
    elif access == "admin" and principal.kind != SYSTEM and "admin" not in principal.roles:
        raise Forbidden("This operation is for administrators and system clients")

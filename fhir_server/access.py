"""What a caller may read and write, resource by resource (the repository's rules, no I/O).

The rules of the guard (auth/guard.py: who may touch which type) plus what a citizen's write may
point at: every reference of the resource as it would be stored must stay inside the caller's
own and linked family members' compartments (Patient CompartmentDefinition), shared reference
data excepted. Reads of shared types hide the resources naming somebody else's Patient
(Schedule.actor, Device.patient); analysts see no resource that names a patient at all.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping
from typing import Any

from fhir_server.auth import guard
from fhir_server.auth.compartment import compartment_term, in_compartment, patient_links
from fhir_server.auth.principal import CITIZEN, INTERNAL, STAFF, Principal
from fhir_server.errors import Forbidden, NotFound
from fhir_server.health_cards.identity import check_identity_write
from fhir_server.resource_types import is_supported
from fhir_server.search.criteria import AnyOf, Criteria, NamesPatient, Term

APPEND_ONLY = frozenset({"AuditEvent"})  # the trail: created by the server, never changed
MAX_REFERENCES = 500  # references a citizen's write may carry (each may cost a lookup)
Lookup = Callable[[str, str], Mapping[str, Any] | None]


def is_citizen(caller: Principal) -> bool:
    """True for callers restricted to their patients' compartments."""
    return caller.kind == CITIZEN


def _names_patient(type_name: str) -> bool:
    """A shared type whose resources may still name a patient (Schedule.actor, Device.patient)."""
    return type_name in guard.SHARED and bool(patient_links(type_name))


def sees_no_one(caller: Principal) -> bool:
    """True for analysts (without a clinical or admin role): they read aggregate and reference
    data, never a resource naming a patient (an individual MeasureReport, a Schedule.actor)."""
    return caller.kind == STAFF and "analyst" in caller.roles and not (
        caller.roles & {"practitioner", "admin"})


def visible(caller: Principal, type_name: str, resource: Mapping[str, Any] | None,
            base_url: str) -> bool:
    """Whether this caller may see this stored content (a type check is assumed done)."""
    if resource is not None and sees_no_one(caller) and patient_links(type_name):
        return not any(_references(resource, base_url, "Patient"))
    if resource is None or not is_citizen(caller):
        return True
    if type_name in guard.SHARED:  # shared content naming somebody else's Patient is hidden
        mine = {f"Patient/{pid}" for pid in caller.patient_ids}
        return not (set(_references(resource, base_url, "Patient")) - mine)
    return in_compartment(type_name, resource, caller.patient_ids, base_url)


def require_visible(caller: Principal, type_name: str, resource: Mapping[str, Any] | None,
                    base_url: str) -> None:
    """404 (never 403: ids stay undiscoverable) when the caller may not see the content."""
    if not visible(caller, type_name, resource, base_url):
        rid = (resource or {}).get("id", "?")
        raise NotFound(f"{type_name}/{rid} is not known")


def restriction(caller: Principal, type_name: str) -> Term | None:
    """The term ANDed into every query of this type for this caller (None: no restriction)."""
    if sees_no_one(caller) and patient_links(type_name):
        return _names_no_patient(type_name)
    if not is_citizen(caller):
        return None
    if type_name in guard.SHARED:
        if not _names_patient(type_name):
            return None
        return AnyOf((Criteria((_names_no_patient(type_name),)),
                      Criteria((compartment_term(type_name, caller.patient_ids),))))
    return compartment_term(type_name, caller.patient_ids)


def _names_no_patient(type_name: str) -> Term:
    """Resources none of whose patient-naming parameters references a Patient."""
    return NamesPatient(patient_links(type_name), negate=True)


def _references(resource: Any, base_url: str, only: str | None = None) -> Iterator[str]:
    """Local references (Type/id) anywhere in a resource (contained ones excepted)."""
    stack = [resource]
    prefix = base_url.rstrip("/") + "/"
    while stack:
        node = stack.pop()
        if isinstance(node, list):
            stack.extend(node)
        elif isinstance(node, dict):
            for key, value in node.items():
                if key == "contained":
                    continue
                if key == "reference" and isinstance(value, str):
                    ref = value[len(prefix):] if value.startswith(prefix) else value
                    type_name, _, rid = ref.partition("/")
                    rid = rid.split("/_history/", 1)[0]
                    if rid and "/" not in rid and is_supported(type_name) and (
                            only is None or type_name == only):
                        yield f"{type_name}/{rid}"
                elif isinstance(value, (dict, list)):
                    stack.append(value)


def check_write(caller: Principal, action: str, type_name: str, proposed: Mapping[str, Any],
                current: Mapping[str, Any] | None, base_url: str, lookup: Lookup) -> None:
    """A create/update: the type rule, the current version visible (404), the proposed content
    in the caller's compartments and every reference pointing inside them (403)."""
    if type_name in APPEND_ONLY and not (caller.kind == INTERNAL and action == "c"):
        raise Forbidden(f"{type_name} is an append-only trail: no one may write it")
    guard.check_type(action, type_name, caller)
    if type_name == "Patient":  # verified identity (name, birth date, identifiers) is kept
        check_identity_write(caller.kind, current, proposed,
                             caller.roles if caller.kind == "staff" else None)
    if not is_citizen(caller):
        return
    if current is not None:
        require_visible(caller, type_name, current, base_url)
    if not in_compartment(type_name, proposed, caller.patient_ids, base_url):
        raise Forbidden(f"A {type_name} may only be written for your own or your family "
                        "members' records")
    check_references(caller, type_name, proposed, base_url, lookup)


def check_references(caller: Principal, type_name: str, proposed: Mapping[str, Any],
                     base_url: str, lookup: Lookup) -> None:
    """403 when a citizen's resource points at a person or record outside their compartments."""
    mine = {f"Patient/{pid}" for pid in caller.patient_ids}
    refs = sorted(set(_references(proposed, base_url)))
    if len(refs) > MAX_REFERENCES:
        raise Forbidden(f"A {type_name} written by a citizen may carry at most "
                        f"{MAX_REFERENCES} references")
    for ref in refs:
        target_type, _, target_id = ref.partition("/")
        if target_type == "Patient":
            if ref not in mine:
                raise Forbidden(f"{type_name} may not refer to {ref}: it is not your or your "
                                "family members' record")
            continue
        if target_type in guard.SHARED and not _names_patient(target_type):
            continue
        if target_type in guard.NOT_FOR_CITIZENS or target_type in guard.ADMIN_ONLY:
            raise Forbidden(f"{type_name} may not refer to {target_type} resources")
        target = lookup(target_type, target_id)
        if target is not None and not visible(caller, target_type, target, base_url):
            raise Forbidden(f"{type_name} may not refer to {ref}: it is not in your or your "
                            "family members' records")


def check_delete(caller: Principal, type_name: str, current: Mapping[str, Any] | None,
                 base_url: str) -> None:
    """A delete: the type rule, the resource visible (404); the trail and a citizen's Patient
    record are never deleted (403; family members are unlinked instead)."""
    if type_name in APPEND_ONLY:
        raise Forbidden(f"{type_name} is an append-only trail: no one may delete it")
    guard.check_type("d", type_name, caller)
    if not is_citizen(caller):
        return
    require_visible(caller, type_name, current, base_url)
    if type_name == "Patient":
        raise Forbidden("A citizen may not delete a Patient record; unlink a family member "
                        "instead")

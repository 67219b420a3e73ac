"""Patient-compartment locality (docs/deploy.md, "Shard key per collection"): the top-level
`pat` field of a stored resource, the id of the Patient it belongs to, so a sharded cluster can
keep a patient's records together with the shard key `{pat: "hashed", _id: 1}`.

`pat` is the first Patient reference of the type's owner parameter, the first linking
parameter of its Patient CompartmentDefinition (compartmentdefinition-patient.html:
Immunization.patient, Observation.subject, Appointment.participant.actor, ...); absent when that
parameter names no Patient. Where the owner parameter holds at most one value (every element on
its path has max 1, from spec/model_rules.json), a search pinning it to Patients is exactly a
test on `pat` (or none, for data stored before `pat`), so on a sharded cluster (mongos) the
filter names `pat` too and mongos targets the patient's shard (and the shard of the null
chunk; on a replica set the filter stays as it was); a resource
naming several Patients there (a family Appointment) keeps the first, and its searches do not
add `pat` (they go to every shard, as any filter without the shard key does).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from functools import cache
from typing import Any

from pymongo.database import Database

from fhir_server import spec
from fhir_server.search.registry import lookup

PATIENT_FIELD = "pat"
_PATIENT = "Patient/"
_WHERE_PATIENT = ".where(resolve() is Patient)"


@cache
def owner_param(type_name: str) -> str | None:
    """The parameter whose Patient gives a type's `pat` (None outside the compartment)."""
    if type_name == "Patient":
        return None  # the compartment's own resource: found by its _id
    codes = [c for c in spec.patient_compartment().get(type_name, []) if c != "{def}"]
    return codes[0] if codes else None


@cache
def single_owner(type_name: str) -> bool:
    """True when the owner parameter holds at most one reference on every resource."""
    code = owner_param(type_name)
    param = lookup(type_name, code) if code else None
    if param is None or param.expression is None or len(param.terms) != 1:
        return False
    path = param.expression.removesuffix(_WHERE_PATIENT)
    steps = path.split(".")
    if "|" in path or steps[0] != type_name or "(" in path:
        return False
    models = spec.model_rules()["models"]
    model = type_name
    for step in steps[1:]:
        found = models.get(model, {}).get("fields", {}).get(step)
        if found is None or found[1]:  # unknown, or a JSON array
            return False
        model = found[0]
    return True


def patient_of(type_name: str, index: Mapping[str, Any]) -> str | None:
    """The `pat` of a resource from its stored search document (`idx`)."""
    code = owner_param(type_name)
    if code is None:
        return None
    values = index.get("p", {}).get(code)
    for value in values if isinstance(values, list) else [values]:
        if isinstance(value, str) and value.startswith(_PATIENT):
            return value[len(_PATIENT):]
    return None


def patient_test(type_name: str, code: str, references: Iterable[str]) -> Any:
    """The `pat` condition implied by `code` naming one of these references (None: none)."""
    if code != owner_param(type_name) or not single_owner(type_name):
        return None
    found = list(dict.fromkeys(references))
    if not found or not all(r.startswith(_PATIENT) and "/" not in r[len(_PATIENT):]
                            for r in found):
        return None
    # None too: a resource stored before `pat` existed has none until `fhir-server reindex`
    # (the exact conditions still decide); on a cluster that adds at most the null chunk's shard
    return {"$in": [*(r[len(_PATIENT):] for r in found), None]}


def is_sharded(db: Database[Any]) -> bool:
    """True when the connection is to mongos (a sharded cluster): searches then name `pat`."""
    return bool(db.client.admin.command("hello").get("msg") == "isdbgrid")

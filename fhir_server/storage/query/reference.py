"""Reference parameters (search.html#reference): Type/id, id, absolute URL, :Type, :identifier.

Stored keys are 'Type/id' for resources on this server (absolute URLs under our base are
shortened), the URL for others, and url / url|version for canonicals.
"""

from __future__ import annotations

from fhir_server.errors import InvalidRequest
from fhir_server.resource_types import RESOURCE_TYPES, is_supported
from fhir_server.search.criteria import Context
from fhir_server.search.extract import reference_key
from fhir_server.search.normalize import REF_IDENTIFIER
from fhir_server.search.params import Clause, is_type_name, unescape
from fhir_server.storage.locality import PATIENT_FIELD, patient_test
from fhir_server.storage.query.base import Part, keyed, missing, token_keyed
from fhir_server.storage.query.token import query_key


def reference_keys(clause: Clause, value: str, ctx: Context) -> list[str]:
    """The stored keys one search value matches."""
    text = unescape(value)
    type_modifier = clause.modifier if clause.modifier and is_type_name(clause.modifier) \
        else None
    if type_modifier is not None:
        if "/" in text and not text.startswith(type_modifier + "/"):
            raise InvalidRequest.at(f"{clause.name} takes an id of a {type_modifier}",
                                    clause.name, "value")
        return [text if "/" in text else f"{type_modifier}/{text}"]
    key = reference_key(text, ctx.base_url)
    if key is None:
        raise InvalidRequest.at(f"Invalid reference '{text[:80]}' in {clause.name}",
                                clause.name, "value")
    if "/" in key or ":" in key:
        return [key]
    targets = [t for t in clause.param.targets if is_supported(t)] or list(RESOURCE_TYPES)
    return [f"{target}/{key}" for target in targets]


def compile_reference(clause: Clause, ctx: Context) -> Part:
    """Compile a reference clause (chains are resolved to keys before this is called)."""
    if clause.modifier == "missing":
        return missing(clause)
    if clause.modifier == "identifier":
        keys = [query_key(value, clause.name) for value in clause.values]
        return token_keyed(clause, keys, 10, f"idx.i.{clause.param.code}", REF_IDENTIFIER)
    keys = [key for value in clause.values for key in reference_keys(clause, value, ctx)]
    part = keyed(clause, keys, 10)
    if (pat := patient_test(clause.param.type_name, clause.param.code, keys)) is not None:
        part.shard[PATIENT_FIELD] = pat  # the patients' shard (storage/locality.py)
    return part

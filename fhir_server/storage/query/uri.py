"""URI parameters (search.html#uri): exact match, :below (prefix), :above, :contains."""

from __future__ import annotations

from fhir_server.search.normalize import PARAM_SEP, TOP
from fhir_server.search.params import Clause, unescape
from fhir_server.storage.query.base import SHARED, Part, keyed, missing, values_field
from fhir_server.storage.query.string import contains_expr


def ancestors(uri: str) -> list[str]:
    """The URI and every parent at a '/' boundary (for :above)."""
    found = [uri]
    scheme_end = uri.find("://")
    floor = scheme_end + 3 if scheme_end >= 0 else 0
    current = uri
    while "/" in current[floor:]:
        current = current[:current.rindex("/")]
        if len(current) <= floor:
            break
        found.append(current)
    return found


def compile_uri(clause: Clause) -> Part:
    """Compile a uri clause."""
    code = clause.param.code
    if clause.modifier == "missing":
        return missing(clause)
    values = [unescape(value) for value in clause.values]
    if clause.modifier == "above":
        return keyed(clause, [a for value in values for a in ancestors(value)], 15)
    if clause.modifier == "contains":
        return Part(raw=[contains_expr(values_field(code), values)], rank=99)
    if clause.modifier == "below":
        tests = [{values_field(code): {"$elemMatch": {"$gte": v, "$lt": v + TOP}}}
                 for v in values]
        base = code + PARAM_SEP
        hint = (SHARED, {"$gte": base + min(values), "$lt": base + max(values) + TOP})
        if len(tests) == 1:
            return Part(exact=tests[0], hint=hint, rank=30)
        return Part(raw=[{"$or": tests}], hint=hint, rank=30)
    return keyed(clause, values, 15)

"""Top-level elements of each resource type, from its `fhir.resources` model: the JSON names,
those in the summary (isSummary) and the mandatory ones (min >= 1) - for _summary/_elements
on types the generated search/summary_data.py does not list yet."""

from __future__ import annotations

from functools import cache

from fhir.resources.R4B import get_fhir_model_class


@cache
def _fields(type_name: str) -> tuple[tuple[str, frozenset[str]], ...]:
    """(JSON name, flags) of each top-level element; () for an unknown type."""
    try:
        model = get_fhir_model_class(type_name)
    except (KeyError, ValueError, AttributeError):
        return ()
    out = []
    for name, field in model.model_fields.items():
        extra = field.json_schema_extra
        if not isinstance(extra, dict) or not extra.get("element_property"):
            continue
        flags = {flag for flag in ("summary_element_property", "element_required")
                 if extra.get(flag)}
        if extra.get("one_of_many_required") or field.is_required():
            flags.add("element_required")
        out.append((field.alias or name, frozenset(flags)))
    return tuple(out)


def element_names(type_name: str) -> frozenset[str]:
    """The JSON names of a type's top-level elements (a choice: each valueX, and value[x])."""
    names = {name for name, _ in _fields(type_name)}
    choices = {f"{base}[x]" for base in _choice_bases(type_name)}
    return frozenset(names | choices | set(_choice_bases(type_name)))


@cache
def _choice_bases(type_name: str) -> frozenset[str]:
    try:
        model = get_fhir_model_class(type_name)
    except (KeyError, ValueError, AttributeError):
        return frozenset()
    bases = set()
    for field in model.model_fields.values():
        extra = field.json_schema_extra
        if isinstance(extra, dict) and isinstance(extra.get("one_of_many"), str):
            bases.add(str(extra["one_of_many"]))
    return frozenset(bases)


def summary_elements(type_name: str) -> tuple[str, ...]:
    """The elements _summary=true keeps (isSummary)."""
    return tuple(name for name, flags in _fields(type_name)
                 if "summary_element_property" in flags)


def mandatory_elements(type_name: str) -> tuple[str, ...]:
    """The elements always returned (min >= 1)."""
    return tuple(name for name, flags in _fields(type_name) if "element_required" in flags)

"""Parse search query parameters into clauses (search.html#ptypes, #chaining, #has).

A clause is one `name=value` pair: parameters repeat for AND, values split on `,` for OR.
Unknown or unsupported parameters raise `Unsupported` (the caller ignores or rejects them,
following `Prefer: handling`); a bad modifier or a malformed value is always a 400.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from fhir_server.errors import InvalidRequest
from fhir_server.resource_types import is_supported
from fhir_server.search.normalize import MAX_INDEXED_STRING
from fhir_server.search.registry import KNOWN_MODIFIERS, MODIFIERS, SearchParam, lookup
from fhir_server.spec import resource_type_names

MAX_VALUES = 100  # OR-ed values in one parameter
MAX_CHAIN_DEPTH = 3


class Unsupported(Exception):
    """A parameter this server does not know or does not execute (handling=lenient ignores)."""

    def __init__(self, name: str, reason: str) -> None:
        super().__init__(reason)
        self.name = name
        self.reason = reason


@dataclass
class Clause:
    """One search parameter occurrence, with its OR-ed values (already unescaped)."""

    name: str
    param: SearchParam
    modifier: str | None = None
    values: list[str] = field(default_factory=list)
    chain: list[tuple[str, Clause]] = field(default_factory=list)  # (target type, inner clause)
    has: tuple[str, SearchParam, Clause] | None = None  # (source type, its reference, inner)


def split_escaped(value: str, separator: str) -> list[str]:
    """Split on a separator not escaped by a backslash (search.html#escaping); keep escapes."""
    parts, current, escaped = [], [], False
    for char in value:
        if escaped:
            current.append("\\" + char)
            escaped = False
        elif char == "\\":
            escaped = True
        elif char == separator:
            parts.append("".join(current))
            current = []
        else:
            current.append(char)
    if escaped:
        current.append("\\")
    parts.append("".join(current))
    return parts


def unescape(value: str) -> str:
    """Remove the search escapes: \\, \\$ \\| and \\\\ stand for the plain characters."""
    out, escaped = [], False
    for char in value:
        if escaped:
            out.append(char)
            escaped = False
        elif char == "\\":
            escaped = True
        else:
            out.append(char)
    return "".join(out)


def _values(name: str, raw: str) -> list[str]:
    values = [v for v in split_escaped(raw, ",") if v != ""]
    if len(values) > MAX_VALUES:
        raise InvalidRequest.at(f"Too many values for {name} (at most {MAX_VALUES})", name,
                                "too-costly")
    if any(len(value) > MAX_INDEXED_STRING for value in values):
        raise InvalidRequest.at(f"A value of {name} is longer than {MAX_INDEXED_STRING} "
                                "characters (indexed strings are cut there)", name, "too-costly")
    return values


def _param(type_name: str, code: str, full_name: str) -> SearchParam:
    param = lookup(type_name, code)
    if param is None:
        raise Unsupported(full_name, f"Unknown search parameter '{code}' for {type_name}")
    if not param.supported:
        raise Unsupported(full_name, f"Search parameter '{code}' of {type_name} is not "
                                     f"supported: {param.reason}")
    return param


def is_type_name(name: str) -> bool:
    """True for any FHIR R4 resource type name (a reference :[type] modifier)."""
    return name in resource_type_names()


def _check_modifier(param: SearchParam, modifier: str, name: str) -> None:
    if param.kind == "reference" and is_type_name(modifier):
        return
    if modifier in MODIFIERS.get(param.kind, frozenset()):
        if modifier == "of-type" and param.code != "identifier":
            raise InvalidRequest.at(f"Modifier :of-type only applies to identifiers ({name})",
                                    name, "not-supported")
        return
    known = modifier in KNOWN_MODIFIERS or modifier[:1].isupper()
    what = "not supported" if known else "unknown"
    raise InvalidRequest.at(f"Modifier ':{modifier[:40]}' is {what} for the {param.kind} "
                            f"parameter '{param.code}'", name, "not-supported")


def parse_clause(type_name: str, name: str, raw: str, depth: int = 0) -> Clause:
    """Parse one `name=value` pair against a resource type (recursing into chains)."""
    if depth > MAX_CHAIN_DEPTH:
        raise InvalidRequest.at(f"Chain too deep in '{name[:100]}'", name[:100], "too-costly")
    if name.startswith("_has:"):
        return _parse_has(type_name, name, raw, depth)
    head, dot, tail = name.partition(".")
    code, colon, modifier = head.partition(":")
    param = _param(type_name, code, name)
    if dot:
        return _parse_chain(type_name, name, param, modifier if colon else None, tail, raw,
                            depth)
    if colon:
        _check_modifier(param, modifier, name)
    clause = Clause(name, param, modifier if colon else None, _values(name, raw))
    if not clause.values:
        raise InvalidRequest.at(f"{name} has no value", name, "value")
    if clause.modifier == "missing" and any(v not in ("true", "false") for v in clause.values):
        raise InvalidRequest.at(f"{name} takes true or false", name, "value")
    return clause


def _parse_chain(type_name: str, name: str, param: SearchParam, type_modifier: str | None,
                 tail: str, raw: str, depth: int) -> Clause:
    if param.kind != "reference":
        raise InvalidRequest.at(f"'{param.code}' is not a reference and cannot be chained",
                                name, "not-supported")
    if type_modifier is not None and not is_type_name(type_modifier):
        raise InvalidRequest.at(f"Chains take a resource type modifier, not ':{type_modifier}'",
                                name, "not-supported")
    if type_modifier is not None and not is_supported(type_modifier):
        raise Unsupported(name, f"Resource type '{type_modifier}' is not stored here")
    targets = [type_modifier] if type_modifier else [t for t in param.targets if is_supported(t)]
    chain: list[tuple[str, Clause]] = []
    reasons = []
    for target in targets:
        try:
            chain.append((target, parse_clause(target, tail, raw, depth + 1)))
        except Unsupported as exc:
            reasons.append(exc.reason)
    if not chain:
        raise Unsupported(name, reasons[0] if reasons else
                          f"'{param.code}' of {type_name} points to no type stored here")
    return Clause(name, param, type_modifier, [], chain=chain)


def _parse_has(type_name: str, name: str, raw: str, depth: int) -> Clause:
    parts = name.split(":", 3)
    if len(parts) != 4 or not all(parts[1:]):
        raise InvalidRequest.at(f"Malformed reverse chain '{name[:100]}': use "
                                "_has:Type:reference:parameter", name[:100], "value")
    _, source, ref_code, rest = parts
    if not is_supported(source):
        raise Unsupported(name, f"Resource type '{source[:60]}' is not stored here")
    ref = _param(source, ref_code, name)
    if ref.kind != "reference":
        raise InvalidRequest.at(f"'{ref_code}' of {source} is not a reference parameter", name,
                                "value")
    if ref.targets and type_name not in ref.targets:
        raise InvalidRequest.at(f"'{ref_code}' of {source} never points to {type_name}", name,
                                "value")
    inner = parse_clause(source, rest, raw, depth + 1)
    this = lookup(type_name, "_id")
    assert this is not None
    return Clause(name, this, None, [], has=(source, ref, inner))

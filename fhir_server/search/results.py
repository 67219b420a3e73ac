"""Result parameters (search.html#modifyingresults): _count, _sort, _total, _summary,
_elements, _include, _revinclude (with :iterate) and our paging cursor."""

from __future__ import annotations

from dataclasses import dataclass, field

from fhir_server.errors import InvalidRequest
from fhir_server.resource_types import is_supported
from fhir_server.search.registry import lookup
from fhir_server.search.shaping import check_elements

RESULT_PARAMS = ("_count", "_sort", "_total", "_summary", "_elements", "_include",
                 "_revinclude", "_include:iterate", "_revinclude:iterate", "_include:recurse",
                 "_revinclude:recurse", "_cursor")
UNSUPPORTED_RESULT = ("_contained", "_containedType", "_score")
SUMMARIES = ("true", "false", "text", "data", "count")
TOTALS = ("none", "estimate", "accurate")


@dataclass(frozen=True)
class Include:
    """One _include / _revinclude: Source:param[:Target] (param None for *)."""

    source: str
    code: str | None
    target: str | None
    iterate: bool


@dataclass
class ResultParams:
    """How results are shaped and paged."""

    count: int
    sort: list[tuple[str, int]] = field(default_factory=list)
    total: str = "accurate"
    summary: str | None = None
    elements: list[str] | None = None
    include: list[Include] = field(default_factory=list)
    revinclude: list[Include] = field(default_factory=list)
    cursor: str | None = None
    applied: list[tuple[str, str]] = field(default_factory=list)


def parse_count(value: str, maximum: int) -> int:
    """_count: a non-negative integer, capped at the configured maximum (400 otherwise)."""
    if not value.isdigit() or len(value) > 9:
        raise InvalidRequest.at(f"_count must be a non-negative integer, got '{value[:20]}'",
                                "_count", "value")
    return min(int(value), maximum)


def parse_sort(value: str, type_names: list[str]) -> list[tuple[str, int]]:
    """_sort=a,-b: known, sortable parameters of every searched type (400 otherwise)."""
    keys = []
    for item in value.split(","):
        code = item.strip()
        direction = -1 if code.startswith("-") else 1
        code = code.lstrip("-")
        for type_name in type_names:
            param = lookup(type_name, code)
            if param is None or not param.supported or param.kind == "composite":
                raise InvalidRequest.at(f"Cannot sort {type_name} by '{code[:60]}'", "_sort",
                                        "not-supported")
        keys.append((code, direction))
    if not keys or len(keys) > 5:
        raise InvalidRequest.at("_sort takes one to five parameters", "_sort", "value")
    return keys


def parse_include(name: str, value: str) -> Include:
    """_include=Source:param[:Target], or Source:* (search.html#include)."""
    pieces = value.split(":")
    if len(pieces) not in (2, 3) or not is_supported(pieces[0]):
        raise InvalidRequest.at(f"{name} must be Type:parameter[:targetType], got "
                                f"'{value[:80]}'", name, "value")
    source, code = pieces[0], pieces[1]
    target = pieces[2] if len(pieces) == 3 else None
    if code != "*":
        param = lookup(source, code)
        if param is None or param.kind != "reference" or not param.supported:
            raise InvalidRequest.at(f"'{code[:60]}' is not a reference parameter of {source}",
                                    name, "value")
    if target is not None and not is_supported(target):
        raise InvalidRequest.at(f"Unknown target type '{target[:60]}' in {name}", name, "value")
    return Include(source, None if code == "*" else code, target,
                   name.endswith((":iterate", ":recurse")))


def add_result_param(results: ResultParams, name: str, value: str, type_names: list[str],
                     max_count: int) -> None:
    """Record one result parameter (400 on a malformed value)."""
    if name == "_count":
        results.count = parse_count(value, max_count)
        return
    if name == "_cursor":
        results.cursor = value
        return
    if name == "_sort":
        results.sort = parse_sort(value, type_names)
    elif name == "_total":
        if value not in TOTALS:
            raise InvalidRequest.at(f"_total must be one of {', '.join(TOTALS)}", name, "value")
        results.total = value
    elif name == "_summary":
        if value not in SUMMARIES:
            raise InvalidRequest.at(f"_summary must be one of {', '.join(SUMMARIES)}", name,
                                    "value")
        results.summary = None if value == "false" else value
    elif name == "_elements":
        results.elements = check_elements(type_names, value)  # 400 for an unknown element
    elif name.startswith("_include"):
        results.include.append(parse_include(name, value))
    else:
        results.revinclude.append(parse_include(name, value))
    results.applied.append((name, value))

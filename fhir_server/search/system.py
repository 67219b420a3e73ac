"""System search (search.html#searchcontexts): GET [base]?_type=A,B&... across types.

Only parameters common to every searched type apply. Results come in type order, then id
order; the cursor is (type position, last id), so pages stay stable while data changes.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

from fhir_server.errors import InvalidRequest, Issue
from fhir_server.resource_types import RESOURCE_TYPES, is_supported
from fhir_server.search.criteria import IdAfter, Sort
from fhir_server.search.includes import resolve_includes
from fhir_server.search.paging import Cursor, decode, encode
from fhir_server.storage.base import StoredVersion

if TYPE_CHECKING:
    from fhir_server.search.service import SearchOutcome, SearchService

SIGNATURE = "system"
BY_ID = Sort((("_id", 1),))


def _types(params: Sequence[tuple[str, str]]) -> list[str]:
    for name, value in params:
        if name == "_type":
            names = [t.strip() for t in value.split(",") if t.strip()]
            unknown = [t for t in names if not is_supported(t)]
            if unknown or not names:
                raise InvalidRequest.at(f"Unknown type(s) in _type: {', '.join(unknown)[:200]}",
                                        "_type", "value")
            return list(dict.fromkeys(names))
    return list(RESOURCE_TYPES)


def run_system_search(service: SearchService, params: Sequence[tuple[str, str]],
                      strict: bool) -> SearchOutcome:
    """One page of a search across types."""
    type_names = _types(params)
    issues: list[Issue] = []
    rest = []
    for name, value in params:
        if name == "_type":
            continue
        if name == "_sort":
            if strict:
                raise InvalidRequest.at("_sort is not supported in a system search", "_sort",
                                        "not-supported")
            issues.append(Issue("not-supported", "_sort is not supported in a system search; "
                                "ignored", "warning", ("_sort",)))
            continue
        rest.append((name, value))
    parsed = service.parse(type_names, rest, strict)
    parsed.issues[:0] = issues
    results, engine = parsed.results, service.engine
    cursor = decode(results.cursor, SIGNATURE) if results.cursor else None
    if cursor is not None and (len(cursor.values) != 2 or not isinstance(cursor.values[0], int)
                               or not 0 <= cursor.values[0] < len(type_names)):
        raise InvalidRequest.at("The _cursor does not belong to this search", "_cursor", "value")
    count = 0 if results.summary == "count" else results.count
    items: list[StoredVersion] = []
    total = 0 if results.total != "none" or results.summary == "count" else None
    start = cursor.values[0] if cursor else 0
    for position, type_name in enumerate(type_names):
        criteria = engine.criteria(type_name, parsed.clauses[type_name])
        if total is not None:
            total += service.store.count(type_name, criteria)
        if position < start or len(items) > count:
            continue
        if cursor is not None and position == start:
            criteria = criteria.and_(IdAfter(str(cursor.values[1])))
        items.extend(engine.find(type_name, criteria, BY_ID, count + 1 - len(items)))
    more = len(items) > count
    items = items[:count]
    self_params = [("_type", ",".join(type_names)), *parsed.applied, *results.applied,
                   ("_count", str(results.count))]
    from fhir_server.search.service import SearchOutcome

    outcome = SearchOutcome(items, [], total, self_params, issues=parsed.issues,
                            summary=results.summary, elements=results.elements)
    if more and items:
        last = items[-1]
        after = Cursor([type_names.index(last.type), last.id], True, [], SIGNATURE)
        outcome.next_params = [*self_params, ("_cursor", encode(after))]
    if cursor is not None:
        outcome.self_params.append(("_cursor", results.cursor or ""))
    outcome.included = resolve_includes(engine, service.indexer, items, results.include,
                                        results.revinclude)
    return outcome

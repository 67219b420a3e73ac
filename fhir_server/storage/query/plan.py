"""Assemble compiled parts into one MongoDB filter that an index can serve.

Every part's exact conditions are field-level, so they merge into one top-level document
(MongoDB ANDs its fields). The most selective part's index hint goes first, and
`match_stages` runs it as a $match stage of its own: SecantusDB plans an index only for a
filter of one field (with several, even `Observation?patient=X&code=Y` read every Observation;
a hint makes it walk the whole index), while MongoDB coalesces consecutive $match stages into
the one filter and plans it as usual. Anything that cannot merge (the same field twice,
$or/$expr) goes into a trailing $and.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from fhir_server.storage.query.base import Part


def _is_plain(test: Any) -> bool:
    return not isinstance(test, Mapping)


def _merge(top: dict[str, Any], residual: list[dict[str, Any]], name: str, test: Any) -> None:
    if name not in top:
        top[name] = test
        return
    current = top[name]
    if _is_plain(current) and _is_plain(test):
        top[name] = current if current == test else {"$all": [current, test]}
    elif isinstance(current, Mapping) and set(current) == {"$all"} and _is_plain(test):
        top[name] = {"$all": [*current["$all"], test]}
    else:
        residual.append({name: test})


def build_filter(parts: Iterable[Part], mandatory: Iterable[Mapping[str, Any]] = (),
                 targeted: bool = False) -> dict[str, Any]:
    """One filter for AND-ed parts (plus mandatory filters, e.g. an access restriction);
    `targeted` (a sharded cluster) adds the parts' shard-key tests."""
    ordered = sorted(parts, key=lambda part: part.rank)
    hinted = next((part for part in ordered if part.hint is not None), None)
    top: dict[str, Any] = {}
    residual: list[dict[str, Any]] = []
    if hinted is not None and hinted.hint is not None:
        top[hinted.hint[0]] = hinted.hint[1]
    for part in ordered:
        for name, test in part.shard.items() if targeted else ():
            _merge(top, residual, name, test)
        if part is hinted and part.hint_exact:
            continue
        for name, test in part.exact.items():
            _merge(top, residual, name, test)
        residual.extend(part.raw)
    for extra in mandatory:
        if any(key.startswith("$") for key in extra):
            residual.append(dict(extra))
            continue
        for name, test in extra.items():
            _merge(top, residual, name, test)
    if residual:
        top["$and"] = residual
    return top


def match_stages(query: Mapping[str, Any]) -> list[dict[str, Any]]:
    """The filter as aggregation $match stages: its leading (indexed) field alone first, the
    rest after it (one stage when there is nothing else)."""
    if len(query) < 2:
        return [{"$match": dict(query)}]
    lead = next(iter(query))
    return [{"$match": {lead: query[lead]}},
            {"$match": {name: test for name, test in query.items() if name != lead}}]

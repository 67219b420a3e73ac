"""The search-type interaction: a searchset Bundle (stopgap: _id and identifier, offset paging)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from fhir_server.interactions.bundles import full_url, int_param, page_link
from fhir_server.interactions.context import Services
from fhir_server.model.parse import check_type
from fhir_server.search.service import compile_query


def search_type(svc: Services, type_name: str,
                params: Sequence[tuple[str, str]]) -> dict[str, Any]:
    """Search the current resources of one type and return a searchset Bundle."""
    check_type(type_name)
    settings = svc.settings
    count, offset = settings.default_page_size, 0
    criteria: list[tuple[str, str]] = []
    for name, value in params:
        if name == "_count":
            count = int_param(value, "_count", 0, settings.max_page_size)
        elif name == "_offset":
            offset = int_param(value, "_offset")
        else:
            criteria.append((name, value))
    query = compile_query(criteria)
    total = svc.store.count(type_name, query)
    found = list(svc.store.find(type_name, query, sort=[("_id", 1)], skip=offset,
                                limit=count)) if count else []
    base = settings.base_url
    paging = [*criteria, ("_count", str(count))]
    links = [page_link(base, type_name, "self", [*paging, *(
        [("_offset", str(offset))] if offset else [])])]
    if count and offset + count < total:
        links.append(page_link(base, type_name, "next",
                               [*paging, ("_offset", str(offset + count))]))
    if count and offset:
        links.append(page_link(base, type_name, "previous",
                               [*paging, ("_offset", str(max(0, offset - count)))]))
    return {"resourceType": "Bundle", "type": "searchset", "total": total, "link": links,
            "entry": [{"fullUrl": full_url(base, v), "resource": v.resource,
                       "search": {"mode": "match"}} for v in found]}

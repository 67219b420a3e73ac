"""History interactions (instance, type, system) as Bundles of type history."""

from __future__ import annotations

from collections.abc import Sequence
from contextlib import suppress
from datetime import datetime
from typing import Any

from fhir_server.auth import guard
from fhir_server.errors import Gone, InvalidRequest, NotFound
from fhir_server.fhirdates import date_range, parse_instant
from fhir_server.interactions import crud
from fhir_server.interactions.bundles import history_entry, int_param, page_link
from fhir_server.interactions.context import Services
from fhir_server.model.parse import check_id, check_type
from fhir_server.storage.mongo import instant

HISTORY_PARAMS = ("_count", "_since", "_at", "_page_at", "_offset")
EVERY_TYPE = "*"  # how an AuditEvent names every type (system history, a system export)


def history(svc: Services, type_name: str | None, resource_id: str | None,
            params: Sequence[tuple[str, str]]) -> dict[str, Any]:
    """A page of versions, newest first, with self/next/previous links."""
    if type_name is not None:
        check_type(type_name)
    if resource_id is not None:
        check_id(resource_id)
        with suppress(Gone):  # a visible deleted resource still has its history
            crud.read(svc, type_name or "", resource_id)
    else:  # named in the audit before the check: a refused attempt is audited too
        if type_name is not None:
            svc.store.unit.touch(type_name)
        else:
            svc.store.unit.name(EVERY_TYPE)
        guard.check_history(type_name, svc.caller)
    settings = svc.settings
    count, since, at, offset = settings.default_page_size, None, None, 0
    snapshot: datetime | None = None
    applied: list[tuple[str, str]] = []
    for name, value in params:
        if name == "_count":
            count = int_param(value, "_count", 0, settings.max_page_size)
        elif name == "_since":
            since = parse_instant(value, "_since")
        elif name == "_at":
            at = date_range(value, "_at")
        elif name == "_page_at":
            snapshot = parse_instant(value, "_page_at")
        elif name == "_offset":
            offset = int_param(value, "_offset")
            continue
        else:
            raise InvalidRequest.at(f"Unknown history parameter '{name[:80]}'", name[:80],
                                    "not-supported")
        if name != "_page_at":
            applied.append((name, value))
    snapshot = snapshot or svc.settings.clock()
    page = svc.store.history(type_name, resource_id, since=since, until=snapshot,
                             offset=offset, count=count, at=at)
    if resource_id is not None and page.total == 0 and not svc.store.history(
            type_name, resource_id, since=None, until=snapshot, offset=0, count=1).total:
        raise NotFound(f"{type_name}/{resource_id} is not known")
    path = "/".join(p for p in (type_name, resource_id) if p) + ("/" if type_name else "")
    path += "_history"
    base = settings.base_url
    paging = [*[(n, v) for n, v in applied if n != "_count"], ("_count", str(count)),
              ("_page_at", instant(snapshot))]
    links = [page_link(base, path, "self", [*applied, *(
        [("_offset", str(offset))] if offset else [])])]
    if count and offset + count < page.total:
        links.append(page_link(base, path, "next", [*paging, ("_offset", str(offset + count))]))
    if offset > 0 and count:
        links.append(page_link(base, path, "previous",
                               [*paging, ("_offset", str(max(0, offset - count)))]))
    return {"resourceType": "Bundle", "type": "history", "total": page.total, "link": links,
            "entry": [history_entry(base, version) for version in page.versions]}

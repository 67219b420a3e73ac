"""Bundle building blocks shared by history and search results."""

from __future__ import annotations

from collections.abc import Sequence
from email.utils import format_datetime
from typing import Any
from urllib.parse import urlencode

from fhir_server.errors import InvalidRequest
from fhir_server.storage.base import StoredVersion
from fhir_server.storage.mongo import instant


def http_date(version: StoredVersion) -> str:
    """The Last-Modified header value of a version."""
    return format_datetime(version.last_updated, usegmt=True)


def full_url(base_url: str, version: StoredVersion) -> str:
    """The absolute URL of a resource."""
    return f"{base_url}/{version.type}/{version.id}"


def page_link(base_url: str, path: str, relation: str,
              params: Sequence[tuple[str, str]]) -> dict[str, str]:
    """A Bundle.link with the query parameters encoded."""
    query = urlencode(list(params))
    return {"relation": relation, "url": f"{base_url}/{path}" + (f"?{query}" if query else "")}


def int_param(value: str, name: str, minimum: int = 0, maximum: int | None = None) -> int:
    """Parse a non-negative integer query parameter (400 on garbage)."""
    if not value.isdigit() or len(value) > 9:
        raise InvalidRequest.at(f"Parameter {name} must be a non-negative integer, got "
                                f"'{value[:20]}'", name, "value")
    number = int(value)
    if number < minimum:
        raise InvalidRequest.at(f"Parameter {name} must be at least {minimum}", name, "value")
    return min(number, maximum) if maximum is not None else number


def history_entry(base_url: str, version: StoredVersion) -> dict[str, Any]:
    """A history Bundle entry for one version (no resource for a deletion)."""
    url = version.type if version.method == "POST" else f"{version.type}/{version.id}"
    status = {"POST": "201 Created", "PUT": "200 OK", "DELETE": "204 No Content"}[version.method]
    entry: dict[str, Any] = {"fullUrl": full_url(base_url, version)}
    if version.resource is not None:
        entry["resource"] = version.resource
    entry["request"] = {"method": version.method, "url": url}
    entry["response"] = {"status": status, "etag": version.etag,
                         "lastModified": instant(version.last_updated)}
    return entry

"""Read a batch/transaction Bundle into entry requests (FHIR R4 http.html#transaction).

Only the Bundle's own structure is checked here (type, entry.request, fullUrl uniqueness,
supported types); each entry's resource is validated later by the same interactions as a single
request, after its placeholders are resolved.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from fhir_server.errors import FhirError, InvalidRequest
from fhir_server.interactions.context import parse_etag
from fhir_server.model.parse import ID_PATTERN
from fhir_server.resource_types import is_supported

METHODS = ("GET", "HEAD", "POST", "PUT", "PATCH", "DELETE")
KINDS = ("transaction", "batch")
PLACEHOLDER_PREFIXES = ("urn:uuid:", "urn:oid:")


@dataclass
class Entry:
    """One Bundle.entry as a request: method, target and (for writes) the resource."""

    index: int
    method: str
    path: tuple[str, ...]
    query: str | None = None
    full_url: str | None = None
    resource: dict[str, Any] | None = None
    if_match: int | None = None
    if_none_exist: str | None = None

    @property
    def where(self) -> str:
        """The FHIRPath of this entry in the request Bundle."""
        return f"Bundle.entry[{self.index}]"

    @property
    def operation(self) -> str | None:
        """The $operation the request URL invokes ('lookup' for CodeSystem/$lookup), if any."""
        return self.path[-1][1:] if self.path and self.path[-1].startswith("$") else None

    @property
    def type_name(self) -> str | None:
        """The resource type the request URL names (None for system-level URLs)."""
        head = self.path[0] if self.path else "_history"
        return None if head == "_history" or head.startswith("$") else head

    @property
    def resource_id(self) -> str | None:
        """The id the request URL names, if any."""
        if len(self.path) < 2 or self.path[1] == "_history" or self.path[1].startswith("$"):
            return None
        return self.path[1]

    @property
    def conditional(self) -> bool:
        """True for a type-level write with search criteria (PUT/DELETE Type?criteria)."""
        return self.method in ("PUT", "DELETE", "PATCH") and len(self.path) == 1

    @property
    def label(self) -> str:
        """'POST Patient', 'PUT Patient/1' ... for messages."""
        url = "/".join(self.path) + (f"?{self.query}" if self.query else "")
        return f"{self.method} {url}"[:120]


def bundle_entries(body: Any) -> tuple[str, list[Any]]:
    """Check the Bundle envelope; return its type and raw entries (400 when malformed)."""
    if not isinstance(body, dict) or body.get("resourceType") != "Bundle":
        raise InvalidRequest.at("POST [base] takes a Bundle of type transaction or batch",
                                "Bundle", "structure")
    kind = body.get("type")
    if kind not in KINDS:
        raise InvalidRequest.at(f"Bundle.type must be transaction or batch, not "
                                f"'{str(kind)[:40]}'", "Bundle.type", "value")
    entries = body.get("entry", [])
    if not isinstance(entries, list):
        raise InvalidRequest.at("Bundle.entry must be an array", "Bundle.entry", "structure")
    seen: dict[str, int] = {}
    for index, raw in enumerate(entries):
        full_url = raw.get("fullUrl") if isinstance(raw, dict) else None
        if isinstance(full_url, str) and full_url:
            if full_url in seen:
                raise InvalidRequest.at(
                    f"Bundle.entry[{index}].fullUrl '{full_url[:100]}' repeats "
                    f"Bundle.entry[{seen[full_url]}].fullUrl (bdl-7: fullUrls must be unique)",
                    f"Bundle.entry[{index}].fullUrl", "invalid")
            seen[full_url] = index
    return str(kind), entries


def _fail(index: int, element: str, message: str, code: str = "invalid") -> FhirError:
    return InvalidRequest.at(f"Bundle.entry[{index}]: {message}",
                             f"Bundle.entry[{index}].{element}", code)


def _split_url(url: str, base_url: str, index: int) -> tuple[tuple[str, ...], str | None]:
    """The path segments and query of an entry URL (relative, or absolute on this server)."""
    if base_url and url.startswith(base_url + "/"):
        url = url[len(base_url) + 1:]
    elif "://" in url.split("?", 1)[0]:
        raise _fail(index, "request.url", f"'{url[:100]}' is not a URL of this server",
                    "not-supported")
    path, _, query = url.partition("?")
    parts = tuple(part for part in path.strip("/").split("/") if part)
    return parts, (query or None)


def _check_path(method: str, path: tuple[str, ...], query: str | None, index: int) -> None:
    """Reject URL shapes that the method does not take (and unsupported types)."""
    if not path:
        raise _fail(index, "request.url", "the URL names no resource type", "not-supported")
    head = path[0]
    if head == "_history" and method in ("GET", "HEAD") and len(path) == 1:
        return
    if path[-1].startswith("$") and len(path) <= 3 and method in ("GET", "POST") and not any(
            part.startswith("$") for part in path[:-1]):
        return _check_operation_path(path, index)
    if any(part.startswith("$") for part in path) or head in ("metadata", "_search"):
        raise _fail(index, "request.url", f"'{'/'.join(path)[:80]}' (operations, metadata) "
                    "is not supported in a Bundle", "not-supported")
    if not is_supported(head):
        raise _fail(index, "request.url", f"resource type '{head[:60]}' is not supported by "
                    "this server", "not-supported")
    for part in path[1:2]:
        if part != "_history" and not ID_PATTERN.fullmatch(part):
            raise _fail(index, "request.url", f"invalid resource id '{part[:70]}'", "value")
    write = (len(path) == 2 and path[1] != "_history" and not query) or (
        len(path) == 1 and bool(query))
    read = len(path) in (1, 2) or (len(path) in (3, 4) and path[2] == "_history")
    shapes = {"POST": len(path) == 1 and not query, "PUT": write, "DELETE": write,
              "PATCH": write and len(path) == 2, "GET": read, "HEAD": read}
    if not shapes[method]:
        raise _fail(index, "request.url", f"{method} does not take the URL "
                    f"'{'/'.join(path)[:80]}{'?' + query[:40] if query else ''}'", "not-supported")


def _check_operation_path(path: tuple[str, ...], index: int) -> None:
    """[$op], [Type/$op] or [Type/id/$op]: a supported type and a valid id."""
    if len(path) >= 2 and not is_supported(path[0]):
        raise _fail(index, "request.url", f"resource type '{path[0][:60]}' is not supported by "
                    "this server", "not-supported")
    if len(path) == 3 and not ID_PATTERN.fullmatch(path[1]):
        raise _fail(index, "request.url", f"invalid resource id '{path[1][:70]}'", "value")


def _string(raw: dict[str, Any], name: str, index: int) -> str | None:
    value = raw.get(name)
    if value is None:
        return None
    if not isinstance(value, str) or not value.strip():
        raise _fail(index, f"request.{name}", f"request.{name} must be a non-empty string",
                    "value")
    return value


def parse_entry(raw: Any, index: int, base_url: str) -> Entry:
    """One Bundle.entry as an Entry (400 pointing into the entry when it is malformed)."""
    if not isinstance(raw, dict):
        raise _fail(index, "", "an entry must be a JSON object", "structure")
    request = raw.get("request")
    if not isinstance(request, dict):
        raise _fail(index, "request", "every entry needs request (method and url)", "required")
    method = request.get("method")
    if method not in METHODS:
        raise _fail(index, "request.method", f"unknown method '{str(method)[:20]}'", "value")
    url = _string(request, "url", index)
    if url is None:
        raise _fail(index, "request.url", "request.url is required", "required")
    path, query = _split_url(url.strip(), base_url, index)
    _check_path(method, path, query, index)
    full_url = raw.get("fullUrl")
    if full_url is not None and (not isinstance(full_url, str) or not full_url.strip()):
        raise _fail(index, "fullUrl", "fullUrl must be a non-empty string", "value")
    entry = Entry(index, method, path, query, full_url)
    resource = raw.get("resource")
    if entry.operation is not None:  # the operation's input: Parameters or a resource
        if resource is not None and not isinstance(resource, dict):
            raise _fail(index, "resource", "an operation's resource must be an object",
                        "structure")
        entry.resource = resource
    elif method in ("POST", "PUT", "PATCH"):
        if not isinstance(resource, dict):
            raise _fail(index, "resource", f"a {method} entry needs a resource", "required")
        expected = "Binary" if method == "PATCH" else path[0]
        if resource.get("resourceType") != expected and not (
                method == "PATCH" and resource.get("resourceType") == "Parameters"):
            raise _fail(index, "resource.resourceType",
                        f"resourceType '{str(resource.get('resourceType'))[:60]}' does not "
                        f"match the request URL ({expected})", "invalid")
        entry.resource = resource
    try:
        entry.if_match = parse_etag(_string(request, "ifMatch", index), "ifMatch")
    except FhirError as error:
        raise _fail(index, "request.ifMatch", error.message, "value") from None
    entry.if_none_exist = _string(request, "ifNoneExist", index)
    if entry.if_none_exist is not None and method != "POST":
        raise _fail(index, "request.ifNoneExist", "ifNoneExist applies to POST only",
                    "not-supported")
    return entry


def is_placeholder(value: str) -> bool:
    """True for urn:uuid: and urn:oid: identities (bundle.html#references)."""
    return value.startswith(PLACEHOLDER_PREFIXES)

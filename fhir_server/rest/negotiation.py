"""Content negotiation: Accept/_format/Content-Type, Prefer, and query parameters."""

from __future__ import annotations

from typing import Any

from flask import Request
from werkzeug.datastructures import MIMEAccept
from werkzeug.http import parse_accept_header, parse_options_header

from fhir_server.errors import InvalidRequest, NotAcceptable, UnsupportedMediaType
from fhir_server.model.jsonio import loads
from fhir_server.model.xml import parse_xml

FHIR_JSON = "application/fhir+json"
FHIR_XML = "application/fhir+xml"
JSON_TYPES = {FHIR_JSON, "application/json", "json", "text/json"}
XML_TYPES = {"application/fhir+xml", "application/xml", "text/xml", "xml"}
WILDCARDS = {"*/*", "application/*"}
AS_JSON = JSON_TYPES | WILDCARDS | {"text/html", "text/plain"}  # browsers and tools: JSON
FORMAT_ONLY = ("_format", "_pretty")
CSV = "text/csv"
CSV_TYPES = {CSV, "csv"}


R4_VERSIONS = {"4.0", "4.0.0", "4.0.1"}  # http.html#version-parameter: major.minor, here 4.0


def _media_types(header: str) -> list[tuple[str, dict[str, str]]]:
    """The media types of an Accept (or one Content-Type) header, with their parameters."""
    parsed = parse_accept_header(header, MIMEAccept)
    return [(media.lower(), params) for media, params in
            (parse_options_header(value) for value, _quality in parsed) if media]


def _other_version(params: dict[str, str]) -> str | None:
    """The fhirVersion a media type names when it is not R4 (None: absent or 4.0)."""
    version = params.get("fhirversion")
    return None if version is None or version.strip() in R4_VERSIONS else version[:20]


def response_mimetype(request: Request) -> str:
    """The media type to answer with, worked out once per request: FHIR JSON (the default) or
    FHIR XML (R4 http.html#mime-type, xml.html); 406 for others."""
    cached = request.environ.get("fhir.mimetype")
    if cached is None:
        cached = request.environ["fhir.mimetype"] = _negotiate(request)
    return str(cached)


def _negotiate(request: Request) -> str:
    fmt = request.args.get("_format") if request.query_string else None
    if fmt is not None:
        wanted, params = parse_options_header(fmt)
        wanted = wanted.lower()
        if wanted not in JSON_TYPES and wanted not in XML_TYPES:
            raise NotAcceptable(f"Unsupported _format '{fmt[:60]}'; use json or xml")
        if (version := _other_version(params)) is not None:
            raise NotAcceptable(f"fhirVersion {version} is not supported: this server speaks "
                                "FHIR 4.0 (http.html#version-parameter)")
        return FHIR_XML if wanted in XML_TYPES else FHIR_JSON
    accept = request.headers.get("Accept", "")
    if accept in ("", "*/*", FHIR_JSON):
        return FHIR_JSON
    entries = _media_types(accept)
    others = [v for _, params in entries if (v := _other_version(params)) is not None]
    types = [media for media, params in entries if _other_version(params) is None]
    if entries and not types:
        raise NotAcceptable(f"fhirVersion {others[0]} is not supported: this server speaks "
                            "FHIR 4.0 (http.html#version-parameter)")
    if not types:
        return FHIR_JSON
    # the most preferred type we can write decides (werkzeug orders by quality, then
    # specificity): a browser's text/html before its application/xml;q=0.9 gets JSON
    for media in types:
        if media in XML_TYPES:
            return FHIR_XML
        if media in AS_JSON:
            return "application/json" if types == ["application/json"] else FHIR_JSON
    raise NotAcceptable(f"None of the accepted types ({accept[:100]}) can be produced; "
                        f"use {FHIR_JSON} or {FHIR_XML}")


def wants_csv(request: Request) -> bool:
    """True when `_format` (csv, text/csv) or the most preferred Accept type asks for CSV,
    which the operations that answer tables make (their `formats`); others answer 406."""
    fmt = request.args.get("_format") if request.query_string else None
    if fmt is not None:
        return parse_options_header(fmt)[0].lower() in CSV_TYPES
    entries = _media_types(request.headers.get("Accept", ""))
    return bool(entries) and entries[0][0] == CSV


def wants_xml(request: Request) -> bool:
    """True when the answer is FHIR XML (False when negotiation itself failed: errors then
    go out as JSON)."""
    try:
        return response_mimetype(request) == FHIR_XML
    except NotAcceptable:
        return False


def wants_pretty(request: Request) -> bool:
    """True when _pretty=true."""
    return request.args.get("_pretty", "").lower() == "true"


def _body_version(params: dict[str, str]) -> None:
    """415 when a body's Content-Type names another fhirVersion than 4.0."""
    if (version := _other_version(params)) is not None:
        raise UnsupportedMediaType(f"Content-Type fhirVersion {version} is not supported: this "
                                   "server takes FHIR 4.0 (http.html#version-parameter)")


def read_json_body(request: Request, patch: bool = False) -> Any:
    """The parsed body as the server's JSON dict after checking its Content-Type: FHIR JSON,
    or FHIR XML read by model.xml (R4 xml.html); 415 for others (PATCH: JSON Patch only)."""
    media, params = parse_options_header(request.headers.get("Content-Type", ""))
    media = media.lower()
    allowed = {"application/json-patch+json"} if patch else JSON_TYPES | XML_TYPES
    if media and media not in allowed:
        if patch:
            raise UnsupportedMediaType(
                f"PATCH needs Content-Type application/json-patch+json, not '{media[:60]}'")
        raise UnsupportedMediaType(f"Content-Type '{media[:60]}' is not supported; "
                                   f"send {FHIR_JSON} or {FHIR_XML}")
    _body_version(params)
    raw = request.get_data(cache=False)
    if not raw.strip():
        raise InvalidRequest("The request body is empty", code="required")
    return parse_xml(raw) if media in XML_TYPES else loads(raw)


def operation_body(raw: bytes, content_type: str) -> Any:
    """An operation's body: a resource from FHIR JSON or XML, else the bytes as sent."""
    media, params = parse_options_header(content_type)
    media = media.lower()
    if media and media not in JSON_TYPES and media not in XML_TYPES and "json" not in media:
        return raw
    _body_version(params)
    return parse_xml(raw) if media in XML_TYPES else loads(raw)


def query_params(request: Request) -> list[tuple[str, str]]:
    """The query parameters, in order, without the format-only ones."""
    if not request.query_string:  # most reads: no query string to parse
        return []
    return [(name, value) for name, value in request.args.items(multi=True)
            if name not in FORMAT_ONLY]


def parse_prefer(request: Request) -> dict[str, str]:
    """The Prefer header as a dict (return=..., handling=..., respond-async)."""
    prefer: dict[str, str] = {}
    for part in request.headers.get("Prefer", "").split(","):
        for token in part.split(";"):
            key, _, value = token.strip().partition("=")
            if key:
                prefer[key.lower()] = value.strip().strip('"').lower()
    return prefer

"""FHIR XML -> the server's JSON dict (FHIR R4 xml.html and json.html mapping rules).

Primitives are `value` attributes; their `id` and extensions become the `_name` JSON property
(json.html#primitive), aligned with `null` when the element repeats. Booleans and numbers get
their JSON types; decimals keep their lexical form as `model.decimals.Decimal` (as jsonio.loads
gives them). A contained resource is the one element inside `contained`/`resource`; the
narrative `div` is kept as serialized XHTML with its namespace. The XML is read by a safe parser
and anything malformed, hostile (DTDs, entities) or not FHIR is an InvalidRequest (400).
"""

from __future__ import annotations

import copy
import re
from typing import Any

from lxml import etree

from fhir_server.errors import FhirError, InvalidRequest
from fhir_server.model.decimals import Decimal
from fhir_server.model.xml_types import (
    FHIR_NS,
    XHTML_NS,
    XSI_NS,
    Child,
    is_resource_type,
    safe_parser,
    type_info,
)

MAX_DEPTH = 200  # elements nested deeper are refused (libxml2 stops at 256 without huge_tree)
_INTEGER = re.compile(r"-?(0|[1-9][0-9]*)")
_DECIMAL = re.compile(r"-?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][+-]?[0-9]+)?")
_BOOLEANS = {"true": True, "false": False}


def _error(text: str, path: str = "", code: str = "structure") -> FhirError:
    """A 400 (InvalidRequest) for a body that is not FHIR XML, pointing at `path` when known."""
    if path:
        return InvalidRequest.at(text, path, code)
    return InvalidRequest(text, code=code)


def parse_xml(raw: bytes) -> dict[str, Any]:
    """A FHIR XML resource as the JSON dict jsonio.loads would give; bad XML is a 400."""
    try:
        root = etree.fromstring(raw, safe_parser())
    except (etree.XMLSyntaxError, ValueError) as exc:
        raise _error(f"Malformed XML body: {str(exc)[:200]}") from None
    docinfo = root.getroottree().docinfo
    if docinfo.doctype or docinfo.internalDTD is not None or docinfo.externalDTD is not None:
        raise _error("The XML body has a DOCTYPE; FHIR XML allows no DTD or entity (xml.html)")
    return _resource(root, "", 0, root=True)


def _split(element: Any, path: str) -> tuple[str | None, str]:
    """(namespace, local name) of an element; entity references and the like are refused."""
    tag = element.tag
    if not isinstance(tag, str):
        raise _error("The XML body holds an entity reference or other non-element node", path)
    if tag[0] == "{":
        namespace, _, local = tag[1:].partition("}")
        return namespace, local
    return None, tag


def _resource(element: Any, path: str, depth: int, root: bool = False) -> dict[str, Any]:
    """A resource element (the root, or the one child of contained/entry.resource)."""
    namespace, name = _split(element, path)
    if namespace != FHIR_NS:
        raise _error(f"<{name[:60]}> is not in the FHIR namespace {FHIR_NS} (xml.html)",
                     path)
    if not is_resource_type(name):
        raise _error(f"Unknown resource type '{name[:60]}'", path or "resourceType")
    where = f"{path}.{name}" if path else name
    return {"resourceType": name, **_complex(element, name, where, depth + 1, root)}


def _complex(element: Any, key: str, path: str, depth: int,
             root: bool = False) -> dict[str, Any]:
    """The JSON object of an element of the given type key (primitives: with `value`)."""
    if depth > MAX_DEPTH:
        raise _error(f"The XML body nests deeper than {MAX_DEPTH} elements", path)
    info = type_info(key)
    out: dict[str, Any] = {}
    for attribute, value in element.attrib.items():
        child = info.by_name.get(attribute)
        if child is None or not child.attr:
            if root and attribute.startswith(f"{{{XSI_NS}}}"):
                continue  # xsi:schemaLocation on the root names the schema; no content
            raise _error(f"Unknown attribute '{attribute[:60]}'", path)
        out[attribute] = _value(value, child, f"{path}.{attribute}")
    if element.text is not None and element.text.strip():
        raise _error("Text is not allowed in a FHIR element (values are attributes)", path)
    repeated: dict[str, tuple[list[Any], list[Any]]] = {}
    for node in element:
        if node.tail is not None and node.tail.strip():
            raise _error("Text is not allowed in a FHIR element (values are attributes)", path)
        if node.tag is etree.Comment:
            continue  # xml.html: comments are not part of the content
        namespace, name = _split(node, path)
        child = info.by_name.get(name)
        where = f"{path}.{name}"
        if child is None or child.attr or namespace != (
                XHTML_NS if child.kind == "xhtml" else FHIR_NS):
            raise _error(f"Unknown element '{name[:60]}' in {key}", where)
        value, extra = _child(node, child, where, depth)
        if child.repeats:
            values, extras = repeated.setdefault(name, ([], []))
            values.append(value)
            extras.append(extra)
        elif name in out or f"_{name}" in out:
            raise _error(f"'{name}' appears more than once (max 1)", where)
        else:
            if value is not None:
                out[name] = value
            if extra is not None:
                out[f"_{name}"] = extra
    for name, (values, extras) in repeated.items():
        if any(value is not None for value in values):
            out[name] = values
        if any(extra is not None for extra in extras):
            out[f"_{name}"] = extras
    return out


def _child(node: Any, child: Child, path: str, depth: int) -> tuple[Any, Any]:
    """(JSON value, `_name` object or None) of one child element."""
    if child.kind == "complex":
        return _complex(node, child.type, path, depth + 1), None
    if child.kind == "resource":
        inner = [item for item in node if item.tag is not etree.Comment]
        if len(inner) != 1 or node.attrib or (node.text or "").strip():
            raise _error(f"'{child.name}' must hold exactly one resource element", path)
        if (inner[0].tail or "").strip():
            raise _error("Text is not allowed in a FHIR element (values are attributes)", path)
        return _resource(inner[0], path, depth + 1), None
    if child.kind == "xhtml":
        return _xhtml(node, path), None
    parts = _complex(node, child.type, path, depth + 1)
    value = parts.pop("value", None)
    if value is None and not parts:
        raise _error(f"'{child.name}' has neither a value nor an id or extension (xml.html)",
                     path)
    return value, parts or None


def _value(text: str, child: Child, path: str) -> Any:
    """A primitive value attribute in its JSON type (json.html#primitive)."""
    if child.kind == "string":
        return text
    if child.kind == "boolean":
        if text not in _BOOLEANS:
            raise _error(f"'{text[:40]}' is not a boolean (true or false)", path, "invalid")
        return _BOOLEANS[text]
    if child.type != "decimal":
        if not _INTEGER.fullmatch(text):
            raise _error(f"'{text[:40]}' is not an integer", path, "invalid")
        return int(text)
    if not _DECIMAL.fullmatch(text):
        raise _error(f"'{text[:40]}' is not a decimal", path, "invalid")
    return Decimal(text) if any(mark in text for mark in ".eE") else int(text)


def _xhtml(node: Any, path: str) -> str:
    """The narrative div as serialized XHTML in the default xhtml namespace."""
    node = _unprefixed(node) if node.prefix is not None else copy.deepcopy(node)
    etree.cleanup_namespaces(node)  # drop the FHIR and other declarations inherited from above
    try:
        return str(etree.tostring(node, encoding="unicode", with_tail=False))
    except ValueError as exc:
        raise _error(f"The narrative cannot be read: {str(exc)[:100]}", path) from None


def _unprefixed(node: Any) -> Any:
    """A copy of an `h:div` tree with the xhtml namespace as the default one."""
    copied = etree.Element(node.tag, dict(node.attrib), nsmap={None: XHTML_NS})
    copied.text = node.text
    for inner in node:
        if isinstance(inner.tag, str):
            child = _unprefixed(inner)
            child.tail = inner.tail
            copied.append(child)
    return copied

"""The server's JSON dict -> FHIR XML (FHIR R4 xml.html), the inverse of xml_read.

Children are written in definition order (spec/xml_elements.json) in the namespace
http://hl7.org/fhir; primitives as `value` attributes (with their `_name` id and extensions),
numbers in their exact lexical form (a `Decimal` by its text, as jsonio.dumps writes it), a
contained resource inside its element, and the narrative div as real XHTML.
"""

from __future__ import annotations

from typing import Any

import orjson
from lxml import etree

from fhir_server.model.decimals import Decimal
from fhir_server.model.xml_types import FHIR_NS, XHTML_NS, Child, safe_parser, type_info

_RESOURCE_TYPE = "resourceType"


def dump_xml(resource: dict[str, Any], pretty: bool = False) -> bytes:
    """A resource dict as FHIR XML (UTF-8); ValueError for what R4 XML cannot express."""
    root = _resource(resource, "", {None: FHIR_NS})
    return bytes(etree.tostring(root, xml_declaration=True, encoding="UTF-8",
                                pretty_print=pretty))


def _resource(resource: Any, path: str, nsmap: dict[str | None, str] | None = None) -> Any:
    """The element of one resource (the root, or inside contained / entry.resource)."""
    name = resource.get(_RESOURCE_TYPE) if isinstance(resource, dict) else None
    if not isinstance(name, str):
        raise ValueError(f"{path or 'the body'} is not a resource (no resourceType)")
    try:
        type_info(name)
    except KeyError:
        raise ValueError(f"{name[:60]} is not an R4 resource type") from None
    element = etree.Element(f"{{{FHIR_NS}}}{name}", nsmap=nsmap)
    _fill(element, resource, name, f"{path}.{name}" if path else name, skip=_RESOURCE_TYPE)
    return element


def _fill(element: Any, data: Any, key: str, path: str, skip: str = "") -> None:
    """Write the properties of `data` (an object of type `key`) into `element`, in order."""
    if not isinstance(data, dict):
        raise ValueError(f"{path} must be a JSON object")
    by_name = type_info(key).by_name
    present: dict[int, Child] = {}
    for prop in data:
        if prop == skip:
            continue
        child = by_name.get(prop[1:] if prop[:1] == "_" else prop)
        if child is None or (prop[:1] == "_" and not child.primitive):
            raise ValueError(f"{path}: {prop[:60]} is not an R4 element of {key}")
        present[child.index] = child
    for index in sorted(present):
        child = present[index]
        name = child.name
        value = data.get(name)
        extra = data.get(f"_{name}") if child.primitive else None
        if value is None and extra is None:
            continue
        where = f"{path}.{name}"
        if child.attr:
            element.set(name, _lexical(value, where))
        elif child.primitive:
            _primitives(element, child, value, extra, where)
        else:
            for item in value if child.repeats and isinstance(value, list) else [value]:
                _complex(element, child, item, where)


def _complex(parent: Any, child: Child, item: Any, path: str) -> None:
    """One complex, contained-resource or xhtml child element."""
    if child.kind == "xhtml":
        parent.append(_xhtml(item, path))
        return
    element = etree.SubElement(parent, child.tag)
    if child.kind == "resource":
        element.append(_resource(item, path))
    else:
        _fill(element, item, child.type, path)


def _primitives(parent: Any, child: Child, value: Any, extra: Any, path: str) -> None:
    """A primitive child (or the aligned arrays of a repeating one, json.html#primitive)."""
    if child.repeats:
        values = value if isinstance(value, list) else []
        extras = extra if isinstance(extra, list) else []
        if (value is not None and not isinstance(value, list)) or (
                extra is not None and not isinstance(extra, list)):
            raise ValueError(f"{path} repeats: it must be a JSON array")
        if values and extras and len(values) != len(extras):
            raise ValueError(f"{path} and _{child.name} must have the same length")
        pairs = list(zip(values or [None] * len(extras), extras or [None] * len(values),
                         strict=True))
    else:
        pairs = [(value, extra)]
    for item, item_extra in pairs:
        if item is None and item_extra is None:
            continue
        element = etree.SubElement(parent, child.tag)
        parts = dict(item_extra) if isinstance(item_extra, dict) else {}
        if item_extra is not None and not isinstance(item_extra, dict):
            raise ValueError(f"_{path} must be a JSON object")
        if item is not None:
            parts["value"] = item
        _fill(element, parts, child.type, path)


def _lexical(value: Any, path: str) -> str:
    """A primitive's XML attribute text (numbers and booleans as JSON writes them)."""
    if isinstance(value, str):
        return value
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, Decimal):
        return value.text
    if isinstance(value, (int, float)):
        return orjson.dumps(value).decode()
    raise ValueError(f"{path} must be a primitive value, not {type(value).__name__}")


def _xhtml(div: Any, path: str) -> Any:
    """The narrative div string as an XHTML element (it must be well-formed and in XHTML)."""
    if not isinstance(div, str):
        raise ValueError(f"{path} must be a string of XHTML")
    try:
        element = etree.fromstring(div.encode("utf-8"), safe_parser())
    except (etree.XMLSyntaxError, ValueError) as exc:
        raise ValueError(f"{path} is not well-formed XHTML: {str(exc)[:100]}") from None
    if element.tag != f"{{{XHTML_NS}}}div":
        raise ValueError(f"{path} must be a <div> in the XHTML namespace (narrative.html)")
    return element

"""Narrative XHTML rules (http://hl7.org/fhir/R4/narrative.html#xhtml, invariants txt-1, txt-2).

The div is well-formed XML whose root is an XHTML `div` (namespace http://www.w3.org/1999/xhtml);
it holds only the basic HTML formatting elements (no script, object, applet, form, iframe...),
no event attributes (onclick...), no javascript:/vbscript: links. txt-2 (non-whitespace
content) is not enforced: official R4 examples break it. HTML named entities (&nbsp;) are
accepted, as the HL7 validator does.
"""

from __future__ import annotations

import html.entities
import re
import xml.parsers.expat
from typing import Any

from fhir_server.errors import Issue

XHTML_NS = "http://www.w3.org/1999/xhtml"
XML_NS = "http://www.w3.org/XML/1998/namespace"
ALLOWED_ELEMENTS = frozenset({
    "p", "br", "div", "h1", "h2", "h3", "h4", "h5", "h6", "a", "span", "b", "em", "i", "strong",
    "small", "big", "tt", "dfn", "q", "var", "abbr", "acronym", "cite", "blockquote", "hr",
    "address", "bdo", "kbd", "sub", "sup", "ul", "ol", "li", "dl", "dt", "dd", "pre", "table",
    "caption", "colgroup", "col", "thead", "tr", "tfoot", "tbody", "th", "td", "code", "samp",
    "img", "map", "area", "ins", "del", "u"})
_URL_ATTRIBUTES = frozenset({"href", "src", "action", "background", "longdesc", "usemap", "cite"})
_BAD_SCHEMES = ("javascript:", "vbscript:")
_ENTITY = re.compile(r"&([A-Za-z][A-Za-z0-9]*);")
_XML_ENTITIES = frozenset({"amp", "lt", "gt", "quot", "apos"})
_INVISIBLE = re.compile(r"[\s\x00-\x1f]+")


def _numeric_entity(match: re.Match[str]) -> str:
    """&name; -> &#N; for HTML entities XML does not define (unknown ones are left to fail)."""
    name = match.group(1)
    if name in _XML_ENTITIES:
        return match.group(0)
    text = html.entities.html5.get(name + ";")
    return "".join(f"&#{ord(ch)};" for ch in text) if text else match.group(0)


class _Checker:
    """expat callbacks recording the first rule each element or attribute breaks."""

    def __init__(self, path: str) -> None:
        self.path = path
        self.problems: list[str] = []
        self.depth = 0

    def start(self, name: str, attributes: dict[str, str]) -> None:
        """An element opens: namespace, name and attributes."""
        namespace, _, local = name.rpartition(" ")
        if self.depth == 0 and (namespace != XHTML_NS or local != "div"):
            self.problems.append("The narrative must be an XHTML <div> element in the "
                                 f"namespace {XHTML_NS}")
        elif namespace != XHTML_NS:
            self.problems.append(f"Element <{local}> is not in the XHTML namespace")
        elif local not in ALLOWED_ELEMENTS:
            self.problems.append(f"Element <{local}> is not allowed in a narrative (only basic "
                                 "HTML formatting: no script, object, applet, form, iframe...)")
        self.depth += 1
        for attribute, value in attributes.items():
            attr_ns, _, attr = attribute.rpartition(" ")
            if attr_ns not in ("", XML_NS):
                self.problems.append(f"Attribute '{attr}' in namespace {attr_ns} is not allowed")
            elif attr.lower().startswith("on"):
                self.problems.append(f"Event attribute '{attr}' is not allowed in a narrative")
            elif attr.lower() in _URL_ATTRIBUTES and _INVISIBLE.sub(
                    "", value).lower().startswith(_BAD_SCHEMES):
                self.problems.append(f"Script URL in attribute '{attr}' is not allowed")

    def end(self, _name: str) -> None:
        """An element closes."""
        self.depth -= 1

    def refuse_dtd(self, *_args: Any) -> None:
        """Doctype and entity declarations have no place in a narrative."""
        self.problems.append("A narrative may not hold a DOCTYPE or entity declarations")
        raise ValueError("dtd")


def check_div(div: str, path: str) -> list[Issue]:
    """Issues for a Narrative.div that is not FHIR XHTML (empty list: it is)."""
    checker = _Checker(path)
    parser = xml.parsers.expat.ParserCreate(namespace_separator=" ")
    parser.StartElementHandler = checker.start
    parser.EndElementHandler = checker.end
    parser.StartDoctypeDeclHandler = checker.refuse_dtd
    parser.EntityDeclHandler = checker.refuse_dtd
    try:
        parser.Parse(_ENTITY.sub(_numeric_entity, div), True)
    except xml.parsers.expat.ExpatError as exc:
        return [Issue("value", f"The narrative is not well-formed XHTML: {exc}"[:300],
                      expression=(path,))]
    except ValueError:
        pass
    return [Issue("value", problem, expression=(path,)) for problem in checker.problems[:5]]

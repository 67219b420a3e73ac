"""Strict JSON types, characters and depth of a resource, checked before fhir.resources parses it.

pydantic coerces ("yes" -> true, "3" -> 3, 1 -> true); FHIR JSON does not
(http://hl7.org/fhir/R4/json.html#primitive): booleans are JSON true/false, integer,
positiveInt and unsignedInt are JSON numbers without a fraction, decimal is a JSON number,
every other primitive is a JSON string; complex elements and resources are objects.
Strings may not hold control characters (U+0000-U+001F except tab, LF and CR: XML 1.0
characters, http://hl7.org/fhir/R4/datatypes.html#string), narrative divs must be FHIR XHTML
(narrative.py), and nesting is bounded (MAX_DEPTH) so no later recursion can overflow.

The type of each JSON property comes from the fhir.resources R4B model fields, compiled once
per model into a table {json name: (kind, child model name)} and cached.
"""

from __future__ import annotations

import decimal
import re
import types
import typing
from functools import cache
from typing import Any

from fhir.resources.R4B import get_fhir_model_class

from fhir_server.errors import InvalidRequest, Issue
from fhir_server.model.decimals import Decimal

MAX_DEPTH = 64  # nested JSON objects and arrays; the official R4 examples reach 22
MAX_ISSUES = 20  # type issues reported at once
MAX_STRING = 1024 * 1024  # "Strings SHALL NOT exceed 1MB" (datatypes.html#string)
BOOLEAN, INTEGER, DECIMAL, STRING, XHTML, OBJECT, RESOURCE, BINARY = range(8)
_KIND_NAMES = {BOOLEAN: "a JSON boolean (true or false)",
               INTEGER: "a JSON number without a fraction",
               DECIMAL: "a JSON number", STRING: "a JSON string", XHTML: "a JSON string",
               OBJECT: "a JSON object", RESOURCE: "a JSON object", BINARY: "a JSON string"}
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f]")
Rule = tuple[int, str | None, bool]  # (kind, model name of an OBJECT's children, repeats)


def _unwrap(annotation: Any) -> tuple[Any, tuple[Any, ...]]:
    """The leaf type of a field annotation (no Optional, List or Annotated) and its metadata."""
    metadata: tuple[Any, ...] = ()
    while True:
        origin = typing.get_origin(annotation)
        if origin is typing.Annotated:
            metadata += annotation.__metadata__
            annotation = typing.get_args(annotation)[0]
        elif origin in (typing.Union, list, types.UnionType):
            args = [a for a in typing.get_args(annotation) if a is not type(None)]
            if len(args) != 1:
                return str, metadata  # Union[AnyUrl, str] (url): a string
            annotation = args[0]
        else:
            return annotation, metadata


def _repeats(annotation: Any) -> bool:
    """True when a field annotation is a list (a repeating element: a JSON array)."""
    origin = typing.get_origin(annotation)
    if origin is list:
        return True
    return origin in (typing.Annotated, typing.Union, types.UnionType) and any(
        _repeats(arg) for arg in typing.get_args(annotation) if arg is not type(None))


def _kind_of(annotation: Any) -> tuple[int, str | None]:
    """The kind (and child model) of one model field."""
    leaf, metadata = _unwrap(annotation)
    if any(type(item).__name__ == "Xhtml" for item in metadata):
        return XHTML, None
    if leaf is bool:
        return BOOLEAN, None
    if leaf is int:
        return INTEGER, None
    if leaf is decimal.Decimal:
        return DECIMAL, None
    if leaf is bytes:
        return BINARY, None
    name = getattr(leaf, "__name__", "")
    if name == "ResourceType":
        return RESOURCE, None
    if name.endswith("Type") and getattr(leaf, "__module__", "") == "abc":
        return OBJECT, name[:-4]
    return STRING, None


@cache
def rules(model_name: str) -> dict[str, Rule] | None:
    """JSON name -> rule for one fhir.resources model (None: not a model name)."""
    try:
        model = get_fhir_model_class(model_name)
    except (KeyError, ValueError):
        return None
    table: dict[str, Rule] = {}
    for name, field in model.model_fields.items():
        if name == "fhir_comments":
            continue
        table[field.alias or name] = (*_kind_of(field.annotation), _repeats(field.annotation))
    return table


class _Walker:
    """One pass over the JSON of a resource, collecting issues (depth stops it at once)."""

    __slots__ = ("issues",)

    def __init__(self) -> None:
        self.issues: list[Issue] = []

    def resource(self, node: dict[str, Any], path: str, depth: int) -> None:
        """A top-level or contained resource: typed by its resourceType."""
        kind = node.get("resourceType")
        table = rules(kind) if isinstance(kind, str) and kind[:1].isupper() else None
        self.object(node, table, path, depth)

    def object(self, node: dict[str, Any], table: dict[str, Rule] | None, path: str,
               depth: int) -> None:
        """Every property of an object typed by table (None: unknown, characters only)."""
        if depth > MAX_DEPTH:
            raise InvalidRequest.at(f"The JSON nests deeper than {MAX_DEPTH} levels", path,
                                    "too-costly")
        for key, value in node.items():
            rule = table.get(key) if table is not None else None
            where = f"{path}.{key}"
            if rule is not None and rule[2] != isinstance(value, list) and value is not None:
                self._report(f"{key} must be {'a JSON array' if rule[2] else 'a single value'}"
                             f" (json.html#arrays)", where)
            elif isinstance(value, list):
                if depth + 1 > MAX_DEPTH:
                    raise InvalidRequest.at(f"The JSON nests deeper than {MAX_DEPTH} levels",
                                            where, "too-costly")
                for index, item in enumerate(value):
                    if item is not None:
                        self.value(item, rule, f"{where}[{index}]", depth + 1)
            elif value is not None:
                self.value(value, rule, where, depth)

    def value(self, value: Any, rule: Rule | None, path: str, depth: int) -> None:
        """One value (single or array item) against its rule."""
        kind = STRING if rule is None else rule[0]
        value_type = type(value)
        if value_type is str:
            if _CONTROL.search(value) is not None:
                self._report("Control characters (U+0000-U+001F other than tab, LF, CR) are "
                             "not allowed in strings", path)
            if kind == BINARY:
                return
            if len(value) > MAX_STRING and kind != XHTML:
                self._report(f"A string may hold at most {MAX_STRING} characters "
                             "(datatypes.html#string)", path)
            if rule is None or kind == STRING:
                return
            if kind == XHTML:
                from fhir_server.validation.narrative import check_div

                self.issues.extend(check_div(value, path))
                return
        elif value_type is dict:
            if rule is None:
                if "resourceType" in value:
                    self.resource(value, path, depth + 1)
                else:
                    self.object(value, None, path, depth + 1)
                return
            if kind == OBJECT:
                self.object(value, rules(rule[1]) if rule[1] else None, path, depth + 1)
                return
            if kind == RESOURCE:
                self.resource(value, path, depth + 1)
                return
        elif value_type is list:
            if depth + 1 > MAX_DEPTH:
                raise InvalidRequest.at(f"The JSON nests deeper than {MAX_DEPTH} levels", path,
                                        "too-costly")
            for index, item in enumerate(value):
                self.value(item, None, f"{path}[{index}]", depth + 1)
            if rule is None:
                return
        elif rule is None or (value_type is bool and kind == BOOLEAN) or (
                value_type is int and kind in (INTEGER, DECIMAL)) or (
                value_type in (float, Decimal) and kind == DECIMAL):
            return
        self._report(f"{path.rpartition('.')[2]} must be {_KIND_NAMES[kind]}, not "
                     f"{_describe(value)}", path)

    def _report(self, text: str, path: str) -> None:
        """Record one error (the first MAX_ISSUES are kept)."""
        if len(self.issues) < MAX_ISSUES:
            self.issues.append(Issue("structure", text, expression=(path,)))


def _describe(value: Any) -> str:
    """A short account of a wrongly typed JSON value."""
    if isinstance(value, bool):
        return f"the boolean {str(value).lower()}"
    if isinstance(value, (int, float)):
        return f"the number {value!r}"[:80]
    if isinstance(value, str):
        return f"the string {value[:40]!r}"
    return "an array" if isinstance(value, list) else "an object"


def check_json_types(resource: dict[str, Any], root: str) -> list[Issue]:
    """Issues for JSON types, control characters and narrative; 400 at once if too deep."""
    walker = _Walker()
    walker.resource(resource, root, 1)
    return walker.issues

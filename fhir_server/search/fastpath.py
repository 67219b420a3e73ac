"""A fast evaluator for the simple FHIRPath shapes that make up most SearchParameter terms.

Member paths (collections flattened, choice elements found through the R4 model's
choiceTypePaths and typed through its path2Type), `ofType(T)`, `as(T)`, `extension('url')`,
`where(path = 'literal')` and `where(path.exists())`. Each step repeats what fhirpathpy does
(member navigation with the primitive `_x` siblings, `returnRawData` output), so the nodes are
fhirpathpy's as `paths.nodes()` makes them. Other shapes are not compiled (None); data the steps
do not vouch for raises, and the caller then evaluates the term with fhirpathpy.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from functools import cache
from typing import Any

from fhirpathpy.models import models

from fhir_server.spec import split_top_level

Node = tuple[str | None, Any]  # (FHIR type name when known, JSON data)
Item = tuple[Any, Any]  # (fhirpathpy's node path, JSON data) while evaluating
Step = Callable[[list[Item]], list[Item]]
FastEval = Callable[[Any], list[Node]]

_MODEL: dict[str, Any] = models["r4"]
_PATH2TYPE: dict[str, str] = _MODEL["path2Type"]
_CHOICES: dict[str, list[str]] = _MODEL["choiceTypePaths"]
_ELSEWHERE: dict[str, str] = _MODEL["pathsDefinedElsewhere"]
_PARENTS: dict[str, str] = _MODEL["type2Parent"]

ENABLED = True  # False: every term is evaluated by fhirpathpy (for differential tests)

_ROOT = re.compile(r"[A-Z][A-Za-z0-9]*")
_MEMBER = re.compile(r"[a-z][A-Za-z0-9]*")
_TYPE_TEST = re.compile(r"(ofType|as)\(([A-Za-z][A-Za-z0-9]*)\)")
_EXTENSION = re.compile(r"extension\('([^'\\]*)'\)")
_WHERE = re.compile(r"where\((.+)\)")
_EQUALS = re.compile(r"(.+?)\s*=\s*'([^'\\]*)'")
# the FHIRPath grammar's own words (FHIRPath.g4): operators, literals, calendar units; only
# `as`, `contains`, `in` and `is` are also identifiers, and are taken as members after a dot
_IDENTIFIER_WORDS = frozenset({"as", "contains", "in", "is"})
_KEYWORDS = _IDENTIFIER_WORDS | {"and", "div", "false", "implies", "mod", "or", "true", "xor"} | {
    unit + s for unit in ("year", "month", "week", "day", "hour", "minute", "second",
                          "millisecond") for s in ("", "s")}
_CACHE_LIMIT = 512
_SCALARS = frozenset({str, int, float, bool, type(None)})
_TYPE_NAMES: dict[Any, str | None] = {}


class Unsupported(Exception):
    """The data leaves what the fast steps reproduce: evaluate the term with fhirpathpy."""


def split_steps(text: str) -> list[str]:
    """Split a FHIRPath chain at its top-level dots (outside brackets and quotes)."""
    return split_top_level(text, ".")


def type_of(path: Any) -> str | None:
    """The type name `paths.nodes()` reports for a fhirpathpy node path."""
    if not isinstance(path, str) or "." in path:
        return None
    return path[7:].lower() if path.startswith("System.") else path


def _is_mapping(data: Any) -> bool:
    """isinstance(data, Mapping), quick for JSON values."""
    return isinstance(data, dict) or (data.__class__ not in _SCALARS
                                      and isinstance(data, Mapping))


def _item(data: Any, path: Any) -> Item:
    """A node as fhirpathpy's ResourceNode makes it: a resource is typed by its resourceType."""
    if data.__class__ not in _SCALARS and _is_mapping(data) and "resourceType" in data:
        return data["resourceType"], data
    return path, data


def _child_paths(parent: Any, key: str) -> tuple[str, tuple[tuple[str, str, str], ...]]:
    """The typed path of `parent.key`, or (for a choice) each variant's fields and typed path."""
    child = f"{parent}.{key}" if parent else f"_.{key}"
    child = _ELSEWHERE.get(child, child)
    choices = _CHOICES.get(child)
    if choices:
        return child, tuple((key + suffix, f"_{key}{suffix}",
                             _PATH2TYPE.get(child + suffix, child + suffix))
                            for suffix in choices)
    if key == "extension":
        child = "Extension"
    return _PATH2TYPE.get(child, child), ()


def _member(key: str) -> Step:
    """Navigation to a child element (fhirpathpy's member invocation, raw data)."""
    shadow = "_" + key
    known: dict[Any, tuple[str, tuple[tuple[str, str, str], ...]]] = {}

    def step(items: list[Item]) -> list[Item]:
        found: list[Item] = []
        for parent, data in items:
            if not _is_mapping(data):
                if key == "length":
                    raise Unsupported("length of a primitive")
                continue
            entry = known.get(parent)
            if entry is None:
                entry = _child_paths(parent, key)
                if len(known) < _CACHE_LIMIT:
                    known[parent] = entry
            path, variants = entry
            if variants:
                for field, shadow_field, typed in variants:
                    value, extra = data.get(field), data.get(shadow_field)
                    if value is not None or extra is not None:
                        path = typed
                        break
                else:
                    continue
            else:
                value, extra = data.get(key), data.get(shadow)
            for part in (value, extra) if extra is not None else (value,):
                if isinstance(part, list):
                    found.extend([_item(element, path) for element in part])
                elif part is not None:
                    found.append(_item(part, path))
        return found

    return step


@cache
def _is_subtype(name: str, ancestor: str) -> bool:
    """fhirpathpy's model walk for `is`: parents via type2Parent, then path2Type."""
    current: str | None = name
    for _ in range(64):
        if not current:
            return False
        if current == ancestor:
            return True
        current = _PARENTS.get(current) or _PATH2TYPE.get(current)
    raise Unsupported(f"type walk from {name} does not end")


def _has_type(path: Any, wanted: str) -> bool:
    """True when a node is of the type (exact names; subtypes are left to fhirpathpy)."""
    if not isinstance(path, str):
        raise Unsupported("untyped node")
    if path.startswith("System."):
        return path[7:] == wanted
    if "." in path:
        raise Unsupported("BackboneElement type test")
    if path == wanted:
        return True
    if _is_subtype(path, wanted):  # fhirpathpy's answer then depends on its global model state
        raise Unsupported(f"{path} is a subtype of {wanted}")
    return False


def _type_test(function: str, wanted: str) -> Step:
    """ofType(T) keeps the nodes of type T; as(T) does so for a single node."""
    def step(items: list[Item]) -> list[Item]:
        if function == "as" and len(items) > 1:
            raise Unsupported("as() on a collection")
        return [item for item in items if _has_type(item[0], wanted)]

    return step


def _extension(url: str) -> Step:
    """extension(url): the first extension with that url of each element."""
    def step(items: list[Item]) -> list[Item]:
        found: list[Item] = []
        for _path, data in items:
            if not _is_mapping(data):
                continue
            extensions = data.get("extension", [])
            if not isinstance(extensions, list) or not all(
                    isinstance(e, Mapping) and "url" in e for e in extensions):
                raise Unsupported("malformed extensions")
            match = next((e for e in extensions if e["url"] == url), None)
            if match is not None:
                found.append(_item(match, "Extension"))
        return found

    return step


def _condition(text: str) -> Callable[[Item], bool] | None:
    """A where() criterion: `path = 'literal'` or `path.exists()`, evaluated on one node."""
    parts = split_steps(text)
    present = _steps(parts[:-1]) if len(parts) > 1 and parts[-1] == "exists()" else None
    if present is not None:
        return lambda item: bool(run(present, [item]))
    match = _EQUALS.fullmatch(text.strip())
    steps = _steps(split_steps(match.group(1))) if match else None
    if match is None or steps is None:
        return None
    literal = match.group(2)

    def equals(item: Item) -> bool:  # fhirpathpy's `=`: a single node, compared by its data
        found = run(steps, [item])
        if len(found) != 1:
            return False
        path, data = found[0]
        if not isinstance(data, str) or not isinstance(path, str) or path.endswith("Quantity"):
            raise Unsupported("where() on a non-string")  # (Quantity nodes are converted)
        return bool(data == literal)

    return equals


def _step(text: str, after_dot: bool) -> Step | None:
    """One step of a chain, or None when its shape is not handled here."""
    if _MEMBER.fullmatch(text) and (text not in _KEYWORDS
                                    or after_dot and text in _IDENTIFIER_WORDS):
        return _member(text)
    if match := _TYPE_TEST.fullmatch(text):
        return _type_test(match.group(1), match.group(2))
    if match := _EXTENSION.fullmatch(text):
        return _extension(match.group(1))
    if match := _WHERE.fullmatch(text):
        condition = _condition(match.group(1))
        if condition is not None:
            return lambda items: [item for item in items if condition(item)]
    return None


def _steps(parts: list[str], after_dot: bool = False) -> list[Step] | None:
    """The steps of a chain, or None when any of them is not handled here."""
    steps = [_step(part, after_dot or index > 0) for index, part in enumerate(parts)]
    return None if not steps or None in steps else [s for s in steps if s is not None]


def run(steps: list[Step], items: list[Item]) -> list[Item]:
    """Apply the steps in turn (an empty collection stays empty)."""
    for step in steps:
        if not items:
            return items
        items = step(items)
    return items


def finish(items: list[Item]) -> list[Node]:
    """Typed nodes, without the bare `{"extension": ...}` siblings fhirpathpy drops at the end."""
    found: list[Node] = []
    for path, data in items:
        if isinstance(data, dict) and len(data) == 1 and "extension" in data:
            continue
        try:
            name = _TYPE_NAMES[path]
        except KeyError:
            name = type_of(path)
            if len(_TYPE_NAMES) < _CACHE_LIMIT:
                _TYPE_NAMES[path] = name
        found.append((name, data))
    return found


def compile_term(text: str) -> FastEval | None:
    """A fast evaluator of `Type.step...` on a resource, or None when the shape is not handled."""
    parts = split_steps(text)
    root = parts[0]
    steps = _steps(parts[1:], after_dot=True) if len(parts) > 1 else []
    if not _ROOT.fullmatch(root) or steps is None:
        return None

    def evaluate(resource: Any) -> list[Node]:
        if not _is_mapping(resource) or resource.get("resourceType") != root:
            raise Unsupported("not a resource of the root type")
        return finish(run(steps, [(root, resource)]))

    return evaluate


def compile_relative_term(text: str) -> FastEval | None:
    """A fast evaluator of a relative chain on a (type, data) node, or None when not handled."""
    parts = split_steps(text)
    steps = _steps(parts)
    if steps is None or not _MEMBER.fullmatch(parts[0]):
        return None

    def evaluate(node: Node) -> list[Node]:
        type_name, data = node
        return finish(run(steps, [_item(data, type_name)]))

    return evaluate

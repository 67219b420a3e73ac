"""Shared by the fast-path differential tests: corpora, outcomes and mutations of resources."""

from __future__ import annotations

import copy
import json
from collections.abc import Iterator
from functools import cache
from typing import Any

from fhir.resources.R4B import get_fhir_model_class

from fhir_server.errors import FhirError
from fhir_server.model.decimals import Decimal
from fhir_server.model.parse import validate_resource
from fhir_server.spec.package import ensure_examples_package
from fhir_server.validation.fast_check import certainly_valid
from fhir_server.validation.json_types import check_json_types
from tests.api.test_transaction_synthea import FULL

Path_ = tuple[Any, ...]
LEAP = "2016-12-31T23:59:60Z"
STRINGS: tuple[Any, ...] = (
    "", " ", "\u00a0", "a\u00a0b", " x", "x ", "a  b", "x\n", "é", "\u2028", "a\x1cb", "Σ",
    "秒 分", "\u3000", "a\u3000b", "\u1680", "…", "x\u00a0", "Bênh viện", "\u0085",
    "2021-02-29", "2020-02-29", "1900-02-29", "2021-13", "2021-04-31", "2021-01-01T10:00:00",
    "2021-01-01T10:00:00+15:00", "2021-01-01T10:00:00.1234567Z", LEAP, "10:00:60", "24:00:00",
    "urn:oid:1.2.3", "urn:uuid:c757873d-ec9a-4326-a141-556f43239520", "a b", "Patient/1",
    "http://x y", "//x", "QUJD", "QUJ", "a" * 65, "a" * 256, 1, True, None, 1.5)
NUMBERS: tuple[Any, ...] = (0, -1, 1.5, 2**31, 2**31 - 1, -(2**31) - 1, "1", True, None,
                            Decimal("1.50"), Decimal("1e-7"), 1e-7, 10**40)
BOOLEANS: tuple[Any, ...] = ("true", 1, 0, None, "false")
EXTENSION = {"extension": [{"url": "http://example.org/x", "valueString": "y"}]}


def synthea() -> list[dict[str, Any]]:
    """Every resource of the Synthea bundles (all types), [] when the data is absent."""
    if not FULL.is_dir():
        return []
    return [entry["resource"] for path in sorted(FULL.glob("*.json"))
            for entry in json.loads(path.read_bytes())["entry"]]


@cache
def examples() -> list[tuple[str, dict[str, Any]]]:
    """(file name, resource) of every official R4 example with a fhir.resources R4B model
    (read once; shared: don't mutate)."""
    found = []
    for path in sorted((ensure_examples_package() / "package").glob("*-*.json")):
        resource = json.loads(path.read_bytes())
        if isinstance(resource, dict) and _has_model(resource.get("resourceType")):
            found.append((path.name, resource))
    return found


def _has_model(type_name: Any) -> bool:
    """True when fhir.resources R4B has a model for this resource type."""
    try:
        get_fhir_model_class(type_name)
    except (KeyError, ValueError, TypeError, AttributeError):
        return False
    return True


def outcome(data: Any, fast_path: bool) -> tuple[Any, ...]:
    """What validate_resource answers: ok, or the error's class, status, code and issues."""
    try:
        validate_resource(data, stored_only=False, fast_path=fast_path)
    except FhirError as error:
        return (type(error).__name__, error.status, error.code, error.message,
                tuple((i.severity, i.code, i.expression, i.diagnostics) for i in error.issues))
    return ("ok",)


def compare(data: Any, full: bool = True) -> tuple[bool, str | None]:
    """(fast path taken, None or how the fast and reference outcomes differ). With
    full=False a resource the fast path takes is only checked to pass both checks it skips
    (the JSON types and model_validate; the rest of the two paths is the same code), and one
    it does not take is not validated at all (both paths then run the same reference code):
    this spares the model validations on big corpora."""
    taken = isinstance(data, dict) and isinstance(data.get("resourceType"), str) and (
        certainly_valid(data, data["resourceType"]))
    if taken:
        issues = check_json_types(data, data["resourceType"])
        if issues:
            return taken, f"fast path said valid, JSON types: {issues}"[:600]
        try:
            get_fhir_model_class(data["resourceType"]).model_validate(data)
        except Exception as error:  # noqa: BLE001 - any rejection breaks the fast path's claim
            return taken, f"fast path said valid, fhir.resources: {error}"[:600]
    if not full:
        return taken, None
    fast, reference = outcome(data, True), outcome(data, False)
    return taken, None if fast == reference else f"fast {fast} != reference {reference}"[:600]


def _positions(node: Any, path: Path_ = ()) -> Iterator[tuple[Path_, Any]]:
    """(path, value) of every value under node, depth first."""
    items = node.items() if isinstance(node, dict) else enumerate(node)
    for key, value in items:
        yield (*path, key), value
        if isinstance(value, (dict, list)):
            yield from _positions(value, (*path, key))


def _replaced(resource: dict[str, Any], path: Path_, value: Any) -> dict[str, Any]:
    """A deep copy of resource with the value at path replaced."""
    mutated = copy.deepcopy(resource)
    parent: Any = mutated
    for step in path[:-1]:
        parent = parent[step]
    parent[path[-1]] = value
    return mutated


def _edited(resource: dict[str, Any], path: Path_, edit: Any) -> dict[str, Any]:
    """A deep copy of resource with edit(parent object) applied at path (the object itself)."""
    mutated = copy.deepcopy(resource)
    node: Any = mutated
    for step in path:
        node = node[step]
    edit(node)
    return mutated


def _values_for(value: Any) -> tuple[Any, ...]:
    """Replacement values for one position, by the JSON type it holds."""
    if isinstance(value, bool):
        return BOOLEANS
    if isinstance(value, (int, float)):
        return NUMBERS
    if isinstance(value, str):
        return STRINGS
    if isinstance(value, list):
        return ([], [None], value[0] if value else None, [value], [*value, None])
    return ({}, "x", [value], None, {**value, "unknownElement": 1}, {"resourceType": "Patient"})


def _key_edits(key: str) -> Iterator[tuple[str, Any]]:
    """Edits of one property of an object: removed, renamed, a second choice, `_` siblings."""
    def remove(node: dict[str, Any]) -> None:
        node.pop(key)

    def rename(new: str) -> Any:
        return lambda node: node.__setitem__(new, node.pop(key))

    def add(name: str, value: Any) -> Any:
        return lambda node: node.__setitem__(name, copy.deepcopy(value))

    yield f"remove {key}", remove
    yield f"rename {key}X", rename(key + "X")
    for suffix in ("String", "Boolean", "DateTime", "Quantity", "CodeableConcept", "Period"):
        if any(key.endswith(kind) for kind in ("String", "Boolean", "DateTime", "Quantity",
                                                "CodeableConcept", "Period", "Reference")):
            stem = key.rstrip("abcdefghijklmnopqrstuvwxyz")
            stem = stem[:max(i for i, ch in enumerate(key) if ch.isupper())] if stem else key
            yield f"choice {stem}{suffix}", rename(stem + suffix)
            yield f"second choice {stem}{suffix}", add(stem + suffix, "2021-01-01")
    for name, value in (("_" + key, EXTENSION), ("_" + key, {}), ("_" + key, {"id": "a"}),
                        ("_" + key, [None, EXTENSION]), ("_" + key, [EXTENSION]),
                        ("fhir_comments", "x"), ("unknownElement", "x")):
        yield f"add {name}={str(value)[:30]}", add(name, value)


def mutations(resource: dict[str, Any], positions: int = 10) -> Iterator[tuple[str, Any]]:
    """(label, mutated resource): wrong JSON types, bad primitive formats, empty and null
    values, unknown elements, missing (required) elements, wrong choice suffixes, `_name`
    siblings, contained resources; at `positions` evenly spread places of the resource."""
    found = list(_positions(resource))
    step = max(1, len(found) // positions)
    for index, (path, value) in enumerate(found[::step]):
        values = _values_for(value)
        for number in range(4):  # four replacement values per position, rotating
            new = values[(index * 4 + number) % len(values)]
            yield f"{path} = {new!r}"[:120], _replaced(resource, path, new)
        if isinstance(path[-1], str):
            for label, edit in _key_edits(path[-1]):
                yield f"{path[:-1]}: {label}", _edited(resource, path[:-1], edit)
    for label, edit in _key_edits(next(iter(resource.keys() - {"resourceType"}), "id")):
        yield label, _edited(resource, (), edit)
    for contained in ({"resourceType": "Patient", "id": "c1"}, {"resourceType": "Spaceship"},
                      {"id": "c2"}, {"resourceType": "Patient", "gender": "x y"},
                      {"resourceType": ["Patient"]}, {"resourceType": 1},
                      {"resourceType": "DomainResource"}, {"resourceType": "Resource"},
                      {"resourceType": "Patient", "contained": [{"resourceType": "Patient"}]}):
        yield f"contained {contained}", {**resource, "contained": [contained]}

"""Snapshot generation for constraint profiles (FHIR R4 profiling.html#snapshot).

The snapshot is the base definition's snapshot with the differential merged in, element by
element (matched on ElementDefinition.id). When the differential reaches inside a data type
(e.g. `Patient.address.extension`), the data type's own snapshot is inserted under that element
first, re-rooted (`Address.extension` -> `Patient.address.extension`), as the reference
snapshot generators do. Slices (`...extension:province`) are inserted after the sliced element
and its earlier slices, starting from a copy of the sliced element.
"""

from __future__ import annotations

import copy
import json
from functools import cache
from pathlib import Path
from typing import Any

from fhir_server.spec.package import ensure_examples_package

Element = dict[str, Any]
CORE = "http://hl7.org/fhir/StructureDefinition/"
# Properties a differential element may set; constraint is appended to the base's list.
_MERGED = ("short", "definition", "comment", "requirements", "min", "max", "type", "binding",
           "mustSupport", "slicing", "sliceName", "fixedCode", "fixedUri", "fixedString",
           "patternCodeableConcept", "patternCoding", "patternCode", "patternIdentifier")


@cache
def core_definition(type_name: str) -> dict[str, Any]:
    """The base StructureDefinition of a resource or data type, from the R4 package."""
    path = Path(ensure_examples_package()) / "package" / f"StructureDefinition-{type_name}.json"
    definition: dict[str, Any] = json.loads(path.read_bytes())
    return definition


def _index(elements: list[Element], element_id: str) -> int | None:
    return next((i for i, e in enumerate(elements) if e["id"] == element_id), None)


def _subtree_end(elements: list[Element], position: int) -> int:
    """Index just past the element at `position` and everything below it (children, slices)."""
    root = elements[position]["id"]
    end = position + 1
    while end < len(elements) and (elements[end]["id"].startswith(root + ".")
                                   or elements[end]["id"].startswith(root + ":")):
        end += 1
    return end


def _expand_type(elements: list[Element], position: int) -> None:
    """Insert the children of the data type of elements[position] below it."""
    element = elements[position]
    types = element.get("type", [])
    if len(types) != 1:
        raise ValueError(f"cannot expand {element['id']}: it has {len(types)} types")
    type_name = types[0]["code"]
    children = core_definition(type_name)["snapshot"]["element"][1:]
    rerooted = []
    for child in children:
        moved = copy.deepcopy(child)
        moved["id"] = element["id"] + moved["id"][len(type_name):]
        moved["path"] = element["path"] + moved["path"][len(type_name):]
        rerooted.append(moved)
    elements[position + 1:position + 1] = rerooted


def _locate(elements: list[Element], element_id: str) -> int:
    """The index of element_id, creating it (type expansion or a new slice) when needed."""
    found = _index(elements, element_id)
    if found is not None:
        return found
    head, _, last = element_id.rpartition(".")
    name, _, slice_name = last.partition(":")
    if slice_name:
        sliced = _locate(elements, f"{head}.{name}" if head else name)
        new = copy.deepcopy(elements[sliced])
        new.pop("slicing", None)
        new["id"] = element_id
        new["sliceName"] = slice_name
        end = _subtree_end(elements, sliced)
        elements.insert(end, new)
        return end
    parent = _locate(elements, head)
    if _index(elements, f"{head}.id") is None:
        _expand_type(elements, parent)
    found = _index(elements, element_id)
    if found is None:
        raise ValueError(f"{element_id} is not an element of the base definition")
    return found


def _merge(target: Element, change: Element, source: str) -> None:
    """Apply one differential element to its snapshot element."""
    for key in _MERGED:
        if key in change:
            target[key] = copy.deepcopy(change[key])
    if "constraint" in change:
        added = [{**copy.deepcopy(c), "source": source} for c in change["constraint"]]
        target["constraint"] = [*target.get("constraint", []), *added]


def build_snapshot(base: dict[str, Any], differential: list[Element],
                   url: str) -> list[Element]:
    """The snapshot of a profile of `base` whose differential is given."""
    elements = copy.deepcopy(base["snapshot"]["element"])
    for change in differential:
        _merge(elements[_locate(elements, change["id"])], change, url)
    return elements


def structure_definition(*, url: str, id: str, name: str, title: str, description: str,  # noqa: A002
                         base_type: str, differential: list[Element], common: dict[str, Any],
                         context: list[dict[str, str]] | None = None) -> dict[str, Any]:
    """A complete constraint StructureDefinition (differential + generated snapshot)."""
    base = core_definition(base_type)
    differential = [{"id": e["id"], "path": ".".join(p.split(":")[0] for p in e["id"].split(".")),
                     **{k: v for k, v in e.items() if k != "id"}} for e in differential]
    definition: dict[str, Any] = {
        "resourceType": "StructureDefinition", "id": id, "url": url, "name": name,
        "title": title, "description": description, **common, "fhirVersion": "4.0.1",
        "kind": base["kind"], "abstract": False, "type": base_type,
        "baseDefinition": CORE + base_type, "derivation": "constraint",
        "differential": {"element": differential},
        "snapshot": {"element": build_snapshot(base, differential, url)},
    }
    if context is not None:
        definition["context"] = context
    return definition

"""Compile a constraint StructureDefinition into a tree of element rules, once per profile.

The rules come from the snapshot (FHIR R4 elementdefinition.html): min/max, type (choice
types and Reference targetProfile), fixed[x]/pattern[x], binding (strength + valueSet) and
constraint (FHIRPath invariants, or a named custom rule). Only the elements the profile (or a
profile it derives from) constrains -- those of its differential -- carry rules: everything
inherited from the base resource is the base checks' job (fhir.resources + structure.py), so
instances are not checked twice. Extension slices (discriminator `url`) are supported; other
slicing is reported in `notes` and ignored.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from fhir_server import spec
from fhir_server.validation.fhirpath import CompiledPath, compile_fhirpath

CUSTOM_RULE = "https://fhir.moh.gov.vn/fhir/StructureDefinition/validation-custom-rule"
CORE = "http://hl7.org/fhir/StructureDefinition/"
BINDING_STRENGTHS = ("required", "extensible")


@dataclass(frozen=True)
class Constraint:
    """An invariant: a compiled FHIRPath expression, or the name of a custom rule."""

    key: str
    severity: str
    human: str
    path: CompiledPath | None = None
    rule: str | None = None


@dataclass(frozen=True)
class Slice:
    """An extension slice: the extension URL, its cardinality and its profile."""

    name: str
    url: str
    min: int
    max: int | None


@dataclass(eq=False)
class ElementRule:
    """What to check for one element of the profile (children: the constrained descendants)."""

    path: str
    name: str
    choice_keys: frozenset[str] | None = None  # allowed JSON names of a constrained choice
    cardinality: tuple[int, int | None] | None = None
    fixed: Any = None
    pattern: Any = None
    binding: tuple[str, str] | None = None  # (strength, value set)
    type_code: str | None = None
    targets: frozenset[str] | None = None
    constraints: list[Constraint] = field(default_factory=list)
    slices: list[Slice] = field(default_factory=list)
    children: list[ElementRule] = field(default_factory=list)


@dataclass
class CompiledProfile:
    """A profile ready to check instances: its URL, type and root element rule."""

    url: str
    name: str
    type: str
    kind: str
    root: ElementRule
    notes: list[str] = field(default_factory=list)


def _max(value: str | None) -> int | None:
    return None if value is None or value == "*" else int(value)


def _upper_first(code: str) -> str:
    return code[:1].upper() + code[1:]


def _value_of(element: dict[str, Any], prefix: str) -> Any:
    return next((v for k, v in element.items() if k.startswith(prefix)), None)


def constrained_ids(definition: dict[str, Any],
                    resolve: Callable[[str], dict[str, Any] | None]) -> tuple[set[str], set[str]]:
    """Element ids and constraint keys set by the differentials of the profile and its bases."""
    ids: set[str] = set()
    keys: set[str] = set()
    seen: set[str] = set()
    current: dict[str, Any] | None = definition
    while current is not None and current.get("url") not in seen:
        seen.add(current.get("url", ""))
        for element in current.get("differential", {}).get("element", []):
            ids.add(element["id"])
            keys.update(c["key"] for c in element.get("constraint", []))
        base = current.get("baseDefinition", "")
        current = None if base.startswith(CORE) else resolve(base)
    return ids, keys


def compile_profile(definition: dict[str, Any],
                    resolve: Callable[[str], dict[str, Any] | None],
                    known_value_set: Callable[[str], bool]) -> CompiledProfile:
    """Compile the snapshot of a StructureDefinition (resolve: other profiles by URL)."""
    ids, keys = constrained_ids(definition, resolve)
    elements = definition.get("snapshot", {}).get("element", [])
    if not elements:
        raise ValueError(f"StructureDefinition {definition.get('url')} has no snapshot")
    notes: list[str] = []
    rules: dict[str, ElementRule] = {}
    root: ElementRule | None = None
    for element in elements:
        element_id = element["id"]
        if ":" in element_id:
            _add_slice(element, rules, notes, ids)
            continue
        parent_id, _, name = element_id.rpartition(".")
        rule = ElementRule(path=element["path"], name=name.removesuffix("[x]"))
        if element_id in ids:
            _fill(rule, element, keys, notes, resolve, known_value_set)
        rules[element_id] = rule
        if not parent_id:
            root = rule
        elif parent_id in rules:
            rules[parent_id].children.append(rule)
    if root is None:
        raise ValueError(f"StructureDefinition {definition.get('url')} has no root element")
    _prune(root)
    return CompiledProfile(url=definition["url"], name=definition.get("name", definition["id"]),
                           type=definition["type"], kind=definition.get("kind", "resource"),
                           root=root, notes=notes)


def _fill(rule: ElementRule, element: dict[str, Any], keys: set[str], notes: list[str],
          resolve: Callable[[str], dict[str, Any] | None],
          known_value_set: Callable[[str], bool]) -> None:
    """Copy the checks of one constrained snapshot element into its rule."""
    types = element.get("type", [])
    low, high = int(element.get("min", 0)), _max(element.get("max"))
    rule.cardinality = (low, high) if (low, high) != (0, None) else None
    rule.type_code = types[0]["code"] if len(types) == 1 else None
    if element["path"].endswith("[x]"):
        rule.choice_keys = frozenset(rule.name + _upper_first(t["code"]) for t in types)
    rule.fixed = _value_of(element, "fixed")
    rule.pattern = _value_of(element, "pattern")
    binding = element.get("binding") or {}
    if binding.get("strength") in BINDING_STRENGTHS and binding.get("valueSet"):
        if known_value_set(binding["valueSet"]):
            rule.binding = (binding["strength"], binding["valueSet"])
        elif not (binding["strength"] == "required" and _base_enforced(binding["valueSet"])):
            notes.append(f"{element['id']}: value set {binding['valueSet']} is unknown to the "
                         "terminology service; binding not checked")
    targets = [url for t in types if t["code"] == "Reference" for url in t.get("targetProfile", [])]
    if targets:
        rule.targets = frozenset(_target_type(url, resolve) for url in targets)
    for item in element.get("constraint", []):
        if item["key"] not in keys:
            continue
        custom = next((e.get("valueCode") for e in item.get("extension", [])
                       if e.get("url") == CUSTOM_RULE), None)
        expression = item.get("expression")
        rule.constraints.append(Constraint(
            key=item["key"], severity=item.get("severity", "error"), human=item.get("human", ""),
            path=compile_fhirpath(expression) if expression and not custom else None,
            rule=custom))
    if element.get("slicing") and not _is_extension_slicing(element):
        notes.append(f"{element['id']}: slicing other than extension-by-url is not checked")


def _base_enforced(value_set: str) -> bool:
    """A required value set of the base specification: structure.py checks it already."""
    try:
        spec.value_set_codes(value_set.partition("|")[0])
    except KeyError:
        return False
    return True


def _target_type(url: str, resolve: Callable[[str], dict[str, Any] | None]) -> str:
    if url.startswith(CORE):
        return url[len(CORE):]
    found = resolve(url)
    return str(found["type"]) if found else url


def _is_extension_slicing(element: dict[str, Any]) -> bool:
    discriminators = element["slicing"].get("discriminator", [])
    return element["path"].endswith("xtension") and all(
        d.get("type") == "value" and d.get("path") == "url" for d in discriminators)


def _add_slice(element: dict[str, Any], rules: dict[str, ElementRule], notes: list[str],
               ids: set[str]) -> None:
    """Attach an extension slice to its sliced element's rule."""
    head, _, slice_name = element["id"].rpartition(":")
    if "." in slice_name or element["id"] not in ids:
        return  # a child of a slice (checked through the extension's own profile)
    profiles = [p for t in element.get("type", []) for p in t.get("profile", [])]
    if head not in rules or not profiles:
        notes.append(f"{element['id']}: only extension slices with a profile are checked")
        return
    rules[head].slices.append(Slice(name=slice_name, url=profiles[0],
                                    min=int(element.get("min", 0)),
                                    max=_max(element.get("max"))))


def _prune(rule: ElementRule) -> bool:
    """Drop unconstrained subtrees; True when this rule (or a descendant) checks something."""
    rule.children = [child for child in rule.children if _prune(child)]
    return bool(rule.children or rule.cardinality or rule.constraints or rule.slices
                or rule.binding or rule.fixed is not None or rule.pattern is not None)

"""Build the typed element map (required bindings, reference targets) from StructureDefinitions.

For each type key -- a resource or data type name, or a backbone path such as
`Patient.contact` -- it lists the JSON properties that lead somewhere checkable: complex
children (by type key), primitives with an enumerable required binding, References with their
allowed targets. `id`, `extension` and `modifierExtension` are implied everywhere and omitted.
"""

from __future__ import annotations

from collections import defaultdict
from typing import Any

from fhir_server.spec.expansion import NotExpandable, ValueSetExpander, canonical

CORE_PREFIX = "http://hl7.org/fhir/StructureDefinition/"
SYSTEM_TYPE_PREFIX = "http://hl7.org/fhirpath/System."
IMPLIED_ELEMENTS = frozenset({"id", "extension", "modifierExtension"})
BACKBONE_TYPES = frozenset({"BackboneElement", "Element"})
ANY_RESOURCE = frozenset({"Resource", "DomainResource"})


def _is_core_type(structure_definition: dict[str, Any]) -> bool:
    """A base resource or data type definition (not a profile or an extension)."""
    return bool(structure_definition["url"] == CORE_PREFIX + structure_definition["id"]
                and structure_definition.get("derivation") != "constraint")


class ElementMapBuilder:
    """Walks StructureDefinition snapshots from root types through every reachable type."""

    def __init__(self, structure_definitions: list[dict[str, Any]],
                 expander: ValueSetExpander) -> None:
        self.by_url = {sd["url"]: sd for sd in structure_definitions}
        self.core = {sd["id"]: sd for sd in structure_definitions if _is_core_type(sd)}
        self.primitives = {name for name, sd in self.core.items() if sd["kind"] == "primitive-type"}
        self.expander = expander
        self.types: dict[str, dict[str, dict[str, Any]]] = {}
        self.value_sets: dict[str, dict[str, list[str]]] = {}
        self.skipped: dict[str, dict[str, Any]] = {}
        self._children: dict[str, dict[str, list[dict[str, Any]]]] = {}

    def build(self, roots: list[str]) -> dict[str, Any]:
        """The element map of the roots and of every type reachable from them."""
        pending = [(root, root) for root in [*roots, "Extension", "Element"]]
        while pending:
            type_name, key = pending.pop()
            if key in self.types:
                continue
            self.types[key] = {}
            for element in self._children_of(type_name).get(key, []):
                for json_name, spec, follow in self._specs_of(element):
                    self.types[key][json_name] = spec
                    if follow:
                        pending.append((type_name if "." in follow else follow, follow))
        return {
            "types": {key: dict(sorted(elements.items()))
                      for key, elements in sorted(self.types.items())},
            "valueSets": dict(sorted(self.value_sets.items())),
            "skippedValueSets": dict(sorted(self.skipped.items())),
        }

    def _children_of(self, type_name: str) -> dict[str, list[dict[str, Any]]]:
        """The snapshot elements of a type, grouped by their parent path (slices left out)."""
        if type_name not in self._children:
            grouped: dict[str, list[dict[str, Any]]] = defaultdict(list)
            for element in self.core[type_name]["snapshot"]["element"]:
                parent, _, name = element["path"].rpartition(".")
                if parent and ":" not in element["id"] and name not in IMPLIED_ELEMENTS:
                    grouped[parent].append(element)
            self._children[type_name] = grouped
        return self._children[type_name]

    def _specs_of(self, element: dict[str, Any]) -> list[tuple[str, dict[str, Any], str | None]]:
        """(JSON property, spec, type key to visit next) for each type of an element."""
        name = element["path"].rpartition(".")[2]
        if "contentReference" in element:
            key = element["contentReference"].lstrip("#")
            return [(name, {"type": key}, key)]
        types = element.get("type", [])
        value_set = self._required_value_set(element)
        specs: list[tuple[str, dict[str, Any], str | None]] = []
        for element_type in types:
            code = element_type["code"]
            json_name = name
            if name.endswith("[x]"):
                json_name = name[:-3] + code[0].upper() + code[1:]
            elif code in BACKBONE_TYPES:
                specs.append((json_name, {"type": element["path"]}, element["path"]))
                continue
            spec: dict[str, Any] = {"type": code}
            follow: str | None = code
            if code == "Reference":
                targets = self._targets_of(element_type.get("targetProfile", []))
                if targets:
                    spec["targets"] = targets
            elif code in ANY_RESOURCE:
                spec["type"], follow = "Resource", None
            elif code in self.primitives or code.startswith(SYSTEM_TYPE_PREFIX):
                if value_set is None:
                    continue
                follow = None
            if value_set is not None and code not in ("Reference", "Resource"):
                spec["valueSet"] = value_set
            specs.append((json_name, spec, follow))
        return specs

    def _required_value_set(self, element: dict[str, Any]) -> str | None:
        """The canonical URL of an element's enumerable required value set, if it has one."""
        binding = element.get("binding", {})
        if binding.get("strength") != "required" or "valueSet" not in binding:
            return None
        url = canonical(binding["valueSet"])
        if url in self.skipped:
            self.skipped[url]["elements"] = sorted({*self.skipped[url]["elements"],
                                                    element["path"]})
            return None
        if url not in self.value_sets:
            try:
                expansion = self.expander.expand(url)
            except NotExpandable as reason:
                self.skipped[url] = {"reason": str(reason), "elements": [element["path"]]}
                return None
            self.value_sets[url] = {system: sorted(codes)
                                    for system, codes in sorted(expansion.items())}
        return url

    def _targets_of(self, profiles: list[str]) -> list[str]:
        """Resource types a Reference may point to; empty when any resource is allowed."""
        targets = set()
        for profile in profiles:
            target = self.by_url[canonical(profile)]["type"]
            if target in ANY_RESOURCE:
                return []
            targets.add(target)
        return sorted(targets)

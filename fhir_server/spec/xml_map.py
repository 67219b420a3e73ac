"""Build the XML element order (xml_elements.json) from the core StructureDefinition snapshots.

FHIR R4 xml.html: "elements must appear in the order defined" and primitive values, `id` on
data types and `Extension.url` are XML attributes (ElementDefinition.representation xmlAttr).
For each type key -- a resource, a data type (primitives included: their `value` is the
attribute), or a backbone path such as `Patient.contact` -- the children are listed in
definition order as `[JSON name, type, kind, flags]`:

- a choice `value[x]` gives one entry per type, in type order (`valueString`, `valueQuantity`);
- type: a primitive code (`decimal`), a complex type key (`HumanName`, `Patient.contact`; a
  contentReference such as `Questionnaire.item.item` names the key it refers to), `Resource`
  (a contained resource) or `xhtml` (`Narrative.div`);
- kind: `boolean`, `number` (integer, decimal, positiveInt, unsignedInt) or `string` for
  primitives (json.html#primitive), else `complex`, `resource` or `xhtml`;
- flags: `*` when the element repeats (max != "1"), `@` when it is an XML attribute.
"""

from __future__ import annotations

from collections import defaultdict
from typing import Any

from fhir_server.spec.element_map import CORE_PREFIX, SYSTEM_TYPE_PREFIX

KINDS = ("resource", "complex-type", "primitive-type")
FHIR_TYPE = "http://hl7.org/fhir/StructureDefinition/structuredefinition-fhir-type"
NUMBERS = frozenset({"integer", "decimal", "positiveInt", "unsignedInt"})
SYSTEM_TYPES = {"String": "string", "Boolean": "boolean", "Integer": "integer",
                "Decimal": "decimal", "Date": "date", "DateTime": "dateTime", "Time": "time"}
BACKBONES = frozenset({"BackboneElement", "Element"})
ANY_RESOURCE = frozenset({"Resource", "DomainResource"})
NOT_MAPPED = frozenset({"xhtml"})  # Narrative.div is XHTML itself, not a FHIR primitive


def _is_mapped(definition: dict[str, Any]) -> bool:
    """A concrete core resource or data type (no profile, logical model or abstract base)."""
    return bool(definition.get("url") == CORE_PREFIX + definition.get("id", "")
                and definition.get("id") == definition.get("type")
                and definition.get("kind") in KINDS and not definition.get("abstract")
                and definition["id"] not in NOT_MAPPED)


def _primitive_code(element_type: dict[str, Any]) -> str:
    """The FHIR primitive a System.* type stands for (structuredefinition-fhir-type)."""
    for extension in element_type.get("extension", []):
        if extension.get("url") == FHIR_TYPE:
            return str(extension["valueUrl"])
    return SYSTEM_TYPES.get(element_type["code"][len(SYSTEM_TYPE_PREFIX):], "string")


class XmlMapBuilder:
    """Lists the children of every type key of the core definitions, in definition order."""

    def __init__(self, structure_definitions: list[dict[str, Any]]) -> None:
        self.core = {sd["id"]: sd for sd in structure_definitions if _is_mapped(sd)}
        self.primitives = {name for name, sd in self.core.items()
                           if sd["kind"] == "primitive-type"}

    def build(self) -> dict[str, Any]:
        """{"resourceTypes": [...], "types": {type key: [[name, type, kind, flags], ...]}}."""
        types: dict[str, list[list[str]]] = {}
        for name in sorted(self.core):
            grouped: dict[str, list[list[str]]] = defaultdict(list)
            for element in self.core[name]["snapshot"]["element"]:
                parent, _, _ = element["path"].rpartition(".")
                if parent and ":" not in element["id"]:
                    grouped[parent].extend(self._entries(element))
            types.update(grouped)
        resources = sorted(name for name, sd in self.core.items() if sd["kind"] == "resource")
        return {"resourceTypes": resources, "types": dict(sorted(types.items()))}

    def _entries(self, element: dict[str, Any]) -> list[list[str]]:
        """The [JSON name, type, kind, flags] entries of one element (several for a choice)."""
        name = element["path"].rpartition(".")[2]
        flags = ("*" if element.get("max") != "1" else "") + (
            "@" if "xmlAttr" in element.get("representation", []) else "")
        if "contentReference" in element:
            return [[name, element["contentReference"].lstrip("#"), "complex", flags]]
        entries = []
        for element_type in element.get("type", []):
            code = element_type["code"]
            json_name = name
            if name.endswith("[x]"):
                json_name = name[:-3] + code[0].upper() + code[1:]
            entries.append([json_name, *self._type_of(element, code, element_type), flags])
        return entries

    def _type_of(self, element: dict[str, Any], code: str,
                 element_type: dict[str, Any]) -> tuple[str, str]:
        """(type, kind) of one type of an element."""
        parent, _, name = element["path"].rpartition(".")
        if parent in self.primitives and name == "value":
            code = parent  # positiveInt.value is typed System.String: the primitive is its own
        elif code.startswith(SYSTEM_TYPE_PREFIX):
            code = _primitive_code(element_type)
        if code in BACKBONES:
            return element["path"], "complex"
        if code in ANY_RESOURCE:
            return "Resource", "resource"
        if code == "xhtml":
            return "xhtml", "xhtml"
        if code in self.primitives:
            return code, "boolean" if code == "boolean" else (
                "number" if code in NUMBERS else "string")
        return code, "complex"

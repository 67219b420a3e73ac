"""Generate fhir_server/spec/*.json from the R4 package: `python -m fhir_server.spec.make_spec`.

Writes resource_types.json (every concrete R4 resource type, its category and security
category, and why a few are not stored), search_parameters.json, compartments.json (the five
CompartmentDefinitions), bindings.json and xml_elements.json (the XML element order): compact,
sorted, one entry per line, so that a re-run on the same package gives the same bytes.
"""

from __future__ import annotations

import importlib.util
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from fhir_server.spec.element_map import ElementMapBuilder
from fhir_server.spec.expansion import ValueSetExpander
from fhir_server.spec.package import PACKAGE_SPEC, ensure_examples_package
from fhir_server.spec.xml_map import XmlMapBuilder

SPEC_DIR = Path(__file__).resolve().parent
ANY_BASE = ("Resource", "DomainResource")
SEARCH_FIELDS = ("url", "code", "base", "type", "expression", "target", "modifier",
                 "comparator", "multipleOr", "multipleAnd", "chain")
RESOURCE_TYPES_SYSTEM = "http://hl7.org/fhir/resource-types"
CATEGORY = "http://hl7.org/fhir/StructureDefinition/structuredefinition-category"
SECURITY = "http://hl7.org/fhir/StructureDefinition/structuredefinition-security-category"
COMPARTMENTS = ("Patient", "Encounter", "RelatedPerson", "Practitioner", "Device")
# parameters.html: "Parameters ... has no RESTful endpoint" (operation input and output only)
NO_ENDPOINT = {"Parameters": "parameters.html: Parameters has no RESTful endpoint"}
MODEL_PACKAGE = "fhir.resources.R4B"  # the validating models (fhir_server/model/parse.py)


def load_package(package_dir: Path, prefixes: tuple[str, ...]) -> dict[str, list[dict[str, Any]]]:
    """The package's resources of the given types by type, in file order, examples left out."""
    loaded: dict[str, list[dict[str, Any]]] = {prefix: [] for prefix in prefixes}
    for path in sorted((package_dir / "package").glob("*-*.json")):
        prefix = path.name.split("-", 1)[0]
        if prefix in loaded:
            resource = json.loads(path.read_bytes())
            if resource.get("resourceType") == prefix and not _is_example(resource):
                loaded[prefix].append(resource)
    return loaded


def _is_example(resource: dict[str, Any]) -> bool:
    """Example definitions (SearchParameter/example, CompartmentDefinition/example...)."""
    return bool(resource.get("id") == "example" or resource.get("id", "").startswith("example-"))


def _extension(definition: dict[str, Any], url: str) -> str:
    """The string or code value of a StructureDefinition extension ('' when absent)."""
    for extension in definition.get("extension", []):
        if extension.get("url") == url:
            return str(extension.get("valueString") or extension.get("valueCode") or "")
    return ""


def _top_elements(definition: dict[str, Any]) -> set[str]:
    """The JSON names of a resource's top-level elements ([x] choices expanded)."""
    names: set[str] = set()
    for element in definition["snapshot"]["element"]:
        parts = element["path"].split(".")
        if len(parts) != 2:
            continue
        if parts[1].endswith("[x]"):
            names.update(parts[1][:-3] + kind["code"][0].upper() + kind["code"][1:]
                         for kind in element.get("type", []))
        else:
            names.add(parts[1])
    return names


def _model_gap(definition: dict[str, Any]) -> str | None:
    """Why the validating models cannot check this R4 type (None: they can). Build-time only:
    the generator reads the models' field names; the server validates through model/."""
    name = definition["type"]
    module_name = f"{MODEL_PACKAGE}.{name.lower()}"
    if importlib.util.find_spec(module_name) is None:
        return f"no {MODEL_PACKAGE} model to validate it (R4B replaced it)"
    model = getattr(importlib.import_module(module_name), name)
    fields = {info.alias or field for field, info in model.model_fields.items()}
    missing = sorted(_top_elements(definition) - fields)
    if missing:
        return (f"the {MODEL_PACKAGE} model has a different structure (R4B redesigned it): "
                f"it lacks the R4 elements {', '.join(missing)}")
    return None


def resource_types(definitions: list[dict[str, Any]]) -> dict[str, Any]:
    """Every concrete R4 resource type with its categories, and the ones not stored (why)."""
    types, not_stored = {}, {}
    for definition in definitions:
        if (definition.get("kind") != "resource" or definition.get("abstract")
                or definition.get("derivation") != "specialization"):
            continue
        name = definition["type"]
        types[name] = {"category": _extension(definition, CATEGORY).replace("&amp;", "&"),
                       "security": _extension(definition, SECURITY)}
        if name in NO_ENDPOINT:
            not_stored[name] = NO_ENDPOINT[name]
        elif (gap := _model_gap(definition)) is not None:
            not_stored[name] = gap
    about = {
        "source": PACKAGE_SPEC,
        "generator": "python -m fhir_server.spec.make_spec",
        "types": "every concrete resource type (StructureDefinition kind=resource, not "
                 "abstract): category and security category (structuredefinition-category, "
                 "structuredefinition-security-category: anonymous, business, individual, "
                 "patient, not-classified)",
        "notStored": "types the server does not store, with the reason",
    }
    return {"about": about, "types": types, "notStored": not_stored}


def stored_types(types: dict[str, Any]) -> list[str]:
    """The stored types of a resource_types() result."""
    return sorted(set(types["types"]) - set(types["notStored"]))


def search_parameters(all_parameters: list[dict[str, Any]],
                      stored: list[str]) -> list[dict[str, Any]]:
    """The SearchParameters that apply to our types, reduced to what a search engine reads."""
    wanted = {*stored, *ANY_BASE}
    selected = []
    for parameter in all_parameters:
        if not wanted.intersection(parameter.get("base", [])):
            continue
        reduced = {name: parameter[name] for name in SEARCH_FIELDS if name in parameter}
        if "component" in parameter:
            reduced["component"] = [
                {"definition": part["definition"], "expression": part["expression"]}
                for part in parameter["component"]
            ]
        selected.append(reduced)
    return sorted(selected, key=lambda parameter: parameter["url"])


def compartments(definitions: list[dict[str, Any]],
                 stored: list[str]) -> dict[str, dict[str, list[str]]]:
    """compartment type -> our resource types in it -> the parameters that link them
    ('{def}': the compartment's own resource)."""
    found = {}
    for code in COMPARTMENTS:
        (definition,) = [item for item in definitions if item.get("code") == code]
        found[code] = {entry["code"]: entry["param"]
                       for entry in sorted(definition["resource"], key=lambda e: e["code"])
                       if entry["code"] in stored and entry.get("param")}
    return found


def bindings(package: dict[str, list[dict[str, Any]]], stored: list[str]) -> dict[str, Any]:
    """Element map of our types (required bindings, reference targets) with its value sets."""
    expander = ValueSetExpander(package["CodeSystem"], package["ValueSet"])
    element_map = ElementMapBuilder(package["StructureDefinition"], expander)
    built = element_map.build(stored)
    concrete = sorted(expander.expand_system(RESOURCE_TYPES_SYSTEM) - set(ANY_BASE))
    about = {
        "source": PACKAGE_SPEC,
        "generator": "python -m fhir_server.spec.make_spec",
        "types": "type key (resource, data type or backbone path) -> JSON property -> spec; "
                 "id, extension, modifierExtension and _primitive are implied everywhere",
        "spec": "type: child type key or primitive; valueSet: required binding (codes in "
                "valueSets); targets: allowed Reference targets (absent: any resource)",
        "resourceTypes": "the concrete resource types (what a reference Type/id may name)",
        "skippedValueSets": "required bindings that cannot be enumerated from the package",
    }
    return {"about": about, "resourceTypes": concrete, **built}


def xml_elements(definitions: list[dict[str, Any]]) -> dict[str, Any]:
    """The children of every type key in definition order, as FHIR XML writes them."""
    about = {
        "source": PACKAGE_SPEC,
        "generator": "python -m fhir_server.spec.make_spec",
        "types": "type key (resource, data type, primitive or backbone path) -> its children "
                 "in definition order (xml.html), each [JSON name, type, kind, flags]",
        "kind": "boolean, number or string (a primitive of that JSON kind, json.html#primitive); "
                "complex (type is a type key); resource (a contained resource); xhtml",
        "flags": "'*': repeats (max != 1); '@': an XML attribute (representation xmlAttr)",
        "resourceTypes": "the concrete resource types (a root or contained element)",
    }
    return {"about": about, **XmlMapBuilder(definitions).build()}


def dump_lines(data: Any, depth: int) -> str:
    """JSON with the first `depth` levels broken into lines and the rest compact."""
    return "".join(_dump_parts(data, depth, 0)) + "\n"


def _dump_parts(data: Any, depth: int, indent: int) -> Iterator[str]:
    """The pieces of dump_lines."""
    compact = json.dumps(data, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    if depth == 0 or not isinstance(data, (dict, list)) or not data:
        yield compact
        return
    opening, closing = ("{", "}") if isinstance(data, dict) else ("[", "]")
    items = sorted(data.items()) if isinstance(data, dict) else list(enumerate(data))
    yield opening
    for index, (key, value) in enumerate(items):
        yield "\n" + " " * (indent + 1)
        if isinstance(data, dict):
            yield json.dumps(key, ensure_ascii=False) + ":"
        yield from _dump_parts(value, depth - 1, indent + 1)
        if index < len(items) - 1:
            yield ","
    yield "\n" + " " * indent + closing


def write_spec_files(package_dir: Path, out_dir: Path = SPEC_DIR) -> list[Path]:
    """Read the package and write the five data files; return their paths."""
    package = load_package(package_dir, ("SearchParameter", "CompartmentDefinition",
                                         "CodeSystem", "ValueSet", "StructureDefinition"))
    types = resource_types(package["StructureDefinition"])
    stored = stored_types(types)
    outputs = {
        "resource_types.json": dump_lines(types, 2),
        "search_parameters.json": dump_lines(
            search_parameters(package["SearchParameter"], stored), 1),
        "compartments.json": dump_lines(compartments(package["CompartmentDefinition"], stored),
                                        2),
        "bindings.json": dump_lines(bindings(package, stored), 2),
        "xml_elements.json": dump_lines(xml_elements(package["StructureDefinition"]), 2),
    }
    written = []
    for name, text in outputs.items():
        path = out_dir / name
        path.write_text(text, encoding="utf-8")
        written.append(path)
    return written


def main() -> None:
    """Fetch the package if needed and regenerate the data files."""
    for path in write_spec_files(ensure_examples_package()):
        print(f"wrote {path} ({path.stat().st_size} bytes)")


if __name__ == "__main__":
    main()

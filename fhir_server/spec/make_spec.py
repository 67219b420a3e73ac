"""Generate fhir_server/spec/*.json from the R4 package: `python -m fhir_server.spec.make_spec`.

Writes search_parameters.json, compartment_patient.json and bindings.json: compact, sorted,
one entry per line, so that a re-run on the same package gives the same bytes.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from fhir_server.resource_types import RESOURCE_TYPES
from fhir_server.spec.element_map import ElementMapBuilder
from fhir_server.spec.expansion import ValueSetExpander
from fhir_server.spec.package import PACKAGE_SPEC, ensure_examples_package

SPEC_DIR = Path(__file__).resolve().parent
ANY_BASE = ("Resource", "DomainResource")
SEARCH_FIELDS = ("url", "code", "base", "type", "expression", "target", "modifier",
                 "comparator", "multipleOr", "multipleAnd", "chain")
RESOURCE_TYPES_SYSTEM = "http://hl7.org/fhir/resource-types"


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


def search_parameters(all_parameters: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The SearchParameters that apply to our types, reduced to what a search engine reads."""
    wanted = {*RESOURCE_TYPES, *ANY_BASE}
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


def patient_compartment(definitions: list[dict[str, Any]]) -> dict[str, list[str]]:
    """Our resource types in the Patient compartment, with the parameters that link them."""
    (patient,) = [item for item in definitions if item.get("code") == "Patient"]
    return {
        entry["code"]: entry["param"]
        for entry in sorted(patient["resource"], key=lambda entry: entry["code"])
        if entry["code"] in RESOURCE_TYPES and entry.get("param")
    }


def bindings(package: dict[str, list[dict[str, Any]]]) -> dict[str, Any]:
    """Element map of our types (required bindings, reference targets) with its value sets."""
    expander = ValueSetExpander(package["CodeSystem"], package["ValueSet"])
    element_map = ElementMapBuilder(package["StructureDefinition"], expander)
    built = element_map.build(sorted(RESOURCE_TYPES))
    resource_types = sorted(expander.expand_system(RESOURCE_TYPES_SYSTEM) - set(ANY_BASE))
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
    return {"about": about, "resourceTypes": resource_types, **built}


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
    """Read the package and write the three data files; return their paths."""
    package = load_package(package_dir, ("SearchParameter", "CompartmentDefinition",
                                         "CodeSystem", "ValueSet", "StructureDefinition"))
    outputs = {
        "search_parameters.json": dump_lines(search_parameters(package["SearchParameter"]), 1),
        "compartment_patient.json": dump_lines(
            patient_compartment(package["CompartmentDefinition"]), 1),
        "bindings.json": dump_lines(bindings(package), 2),
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

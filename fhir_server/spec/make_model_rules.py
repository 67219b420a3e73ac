"""Generate fhir_server/spec/model_rules.json: `python -m fhir_server.spec.make_model_rules`.

What the validating models (fhir.resources R4B on fhir_core) accept, read from the installed
models themselves (build-time introspection; the server reads only the data file): for every
model reachable from fhir.resources' type registry, its JSON properties (alias -> FHIR primitive
type or child model, repeating or not), required properties (pydantic-required complex fields
and the `get_required_fields` primitives), choice groups (`get_one_of_many_fields`, with their
required flag), whether it is a resource, and the primitive patterns and ranges fhir_core
applies. fhir_server/validation/fast_rules.py compiles it into the fast validity checker.
"""

from __future__ import annotations

import importlib
import sys
import types
import typing
from importlib import metadata
from pathlib import Path
from typing import Any

from fhir_server.spec.make_spec import SPEC_DIR, dump_lines

MODEL_PACKAGE = "fhir.resources.R4B"
OUTPUT = "model_rules.json"
ANY_RESOURCE = "Resource"  # a field holding any resource, dispatched on its resourceType
# fhir_core metadata class (or python type) -> the FHIR primitive type of a field
PRIMITIVE_OF_METADATA = {
    "String": "string", "Code": "code", "Id": "id", "Uri": "uri", "Canonical": "canonical",
    "Oid": "oid", "Url": "url", "Markdown": "markdown", "Xhtml": "xhtml", "Date": "date",
    "DateTime": "dateTime", "Instant": "instant", "Time": "time", "Integer": "integer",
    "UnsignedInt": "unsignedInt", "PositiveInt": "positiveInt", "Decimal": "decimal",
    "Base64Binary": "base64Binary", "UuidVersion": "uuid",
}
# FHIRPrimitiveExtension's before-validator (validate_extension_or_fhir_comment_required):
# one of these must be present (fhir_comments, the third, is not a FHIR element)
ANY_OF = {"FHIRPrimitiveExtension": ["extension", "id"]}


def _unwrap(annotation: Any) -> tuple[Any, tuple[Any, ...], bool]:
    """The leaf type of a field annotation, its metadata, and whether it is a list."""
    metadata_items: tuple[Any, ...] = ()
    repeats = False
    while True:
        origin = typing.get_origin(annotation)
        if origin is typing.Annotated:
            metadata_items += annotation.__metadata__
            annotation = typing.get_args(annotation)[0]
        elif origin is list:
            repeats = True
            annotation = typing.get_args(annotation)[0]
        elif origin in (typing.Union, types.UnionType):
            args = [a for a in typing.get_args(annotation) if a is not type(None)]
            if len(args) != 1:  # Union[AnyUrl, str] under Url metadata
                return str, metadata_items, repeats
            annotation = args[0]
        else:
            return annotation, metadata_items, repeats


def _field_type(model: Any, name: str, annotation: Any) -> tuple[str, bool, Any]:
    """(FHIR primitive or model name, repeats, child model class or None) of one field."""
    leaf, metadata_items, repeats = _unwrap(annotation)
    for item in metadata_items:
        kind = PRIMITIVE_OF_METADATA.get(type(item).__name__)
        if kind is not None:
            return kind, repeats, None
    if leaf is bool:
        return "boolean", repeats, None
    if hasattr(leaf, "get_model_klass"):
        child = leaf.get_model_klass()
        if leaf.__name__ == "ResourceType":
            return ANY_RESOURCE, repeats, None
        return child.__name__, repeats, child
    raise ValueError(f"{model.__name__}.{name}: unknown field type {annotation!r}")


def _model_entry(model: Any) -> tuple[dict[str, Any], list[Any]]:
    """The data file entry of one model and the child models it names."""
    fields: dict[str, list[Any]] = {}
    children: list[Any] = []
    alias_of = {name: info.alias or name for name, info in model.model_fields.items()}
    required: set[str] = set()
    for name, info in model.model_fields.items():
        if name == "fhir_comments":
            continue
        kind, repeats, child = _field_type(model, name, info.annotation)
        fields[alias_of[name]] = [kind, int(repeats)]
        if child is not None:
            children.append(child)
        if info.is_required():
            required.add(alias_of[name])
    instance = model.model_construct()
    required.update(alias_of.get(name, name) for name, _ in model.get_required_fields(instance))
    choices: list[list[str]] = []
    required_choices: list[list[str]] = []
    for members in model.get_one_of_many_fields(instance).values():
        group = sorted(alias_of[member] for member in members)
        extra = model.model_fields[members[0]].json_schema_extra or {}
        (required_choices if extra.get("one_of_many_required") else choices).append(group)
    entry: dict[str, Any] = {"fields": fields}
    if model.has_resource_base():
        entry["resource"] = True
    for key, value in (("required", sorted(required)), ("choices", sorted(choices)),
                       ("requiredChoices", sorted(required_choices)),
                       ("anyOf", ANY_OF.get(model.__name__))):
        if value:
            entry[key] = value
    return entry, children


def model_rules() -> dict[str, Any]:
    """Every model reachable from the package's type registry, and fhir_core's primitives."""
    registry = importlib.import_module(f"{MODEL_PACKAGE}.fhirtypes")
    pending = [getattr(registry, name).get_model_klass() for name in sorted(dir(registry))
               if name.endswith("Type") and hasattr(getattr(registry, name), "get_model_klass")]
    models: dict[str, Any] = {}
    while pending:
        model = pending.pop()
        if model.__name__ in models:
            if models[model.__name__][1] is not model:
                raise ValueError(f"two models named {model.__name__}")
            continue
        entry, children = _model_entry(model)
        models[model.__name__] = (entry, model)
        pending.extend(children)
    return {"about": _about(), "primitives": _primitives(),
            "models": {name: entry for name, (entry, _) in sorted(models.items())}}


def _primitives() -> dict[str, Any]:
    """The patterns (Python re, full match) and ranges fhir_core applies to primitives."""
    core_types = importlib.import_module("fhir_core.types")
    constraints = importlib.import_module("fhir_core.constraints")
    patterns = {name: getattr(core_types, cls).pattern.pattern for name, cls in (
        ("oid", "Oid"), ("decimal", "Decimal"), ("date", "Date"), ("dateTime", "DateTime"),
        ("instant", "Instant"), ("time", "Time"))}
    patterns["id"] = constraints.TYPES_ID_PATTERN
    ranges = {name: [getattr(core_types, cls)().min_length, getattr(core_types, cls)().max_length]
              for name, cls in (("integer", "Integer"), ("unsignedInt", "UnsignedInt"),
                                ("positiveInt", "PositiveInt"))}
    return {"patterns": patterns, "ranges": ranges, "idMaxLength": constraints.TYPES_ID_MAX_LENGTH,
            "urlAsIs": sorted(constraints.FHIR_PRIMITIVES)}


def _about() -> dict[str, str]:
    """The provenance and key of the data file."""
    return {
        "source": f"{MODEL_PACKAGE} from fhir.resources {metadata.version('fhir.resources')}, "
                  f"fhir_core {metadata.version('fhir-core')}",
        "generator": "python -m fhir_server.spec.make_model_rules",
        "models": "model name -> fields (JSON name -> [FHIR primitive type or model name, "
                  "1 if a JSON array]; 'Resource': any resource by its resourceType), required, "
                  "choices (at most one present), requiredChoices (exactly one), anyOf (one "
                  "required), resource (a resource model: resourceType allowed)",
        "primitives": "patterns fhir_core matches (fullmatch), integer ranges, the id length "
                      "limit, the url values fhir_core accepts as they are",
    }


def write_model_rules(out_dir: Path = SPEC_DIR) -> Path:
    """Write the data file; return its path."""
    path = out_dir / OUTPUT
    path.write_text(dump_lines(model_rules(), 2), encoding="utf-8")
    return path


def main() -> None:
    """Regenerate the data file from the installed models."""
    path = write_model_rules()
    print(f"wrote {path} ({path.stat().st_size} bytes)", file=sys.stdout)


if __name__ == "__main__":
    main()

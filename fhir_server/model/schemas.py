"""JSON Schemas of the resource models, for the OpenAPI document."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from fhir.resources.R4B import get_fhir_model_class
from pydantic.json_schema import models_json_schema


def resource_json_schemas(type_names: Iterable[str]) -> dict[str, Any]:
    """Component schemas (name -> JSON Schema) for these resource types and what they use."""
    models: list[Any] = [(get_fhir_model_class(name), "validation") for name in type_names]
    _, schema = models_json_schema(models, ref_template="#/components/schemas/{model}")
    return dict(schema.get("$defs", {}))

"""Search criteria compiled for MongoDB: the one place that knows how stored resources and
their search index are laid out for queries (one compiler per parameter type)."""

from fhir_server.storage.query.keyset import sort_spec
from fhir_server.storage.query.terms import compile_criteria

__all__ = ["compile_criteria", "sort_spec"]

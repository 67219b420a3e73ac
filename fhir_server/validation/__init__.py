"""Validation beyond parsing: base structural checks (and, later, profiles)."""

from fhir_server.validation.structure import check_structure

__all__ = ["check_structure"]

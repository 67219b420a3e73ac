"""Synthetic campaign data for `fhir-server seed --people N` (issue 15 point 6)."""

"""FHIR interactions (read, create, update, ...): no Flask here."""

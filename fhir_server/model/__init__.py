"""The only place that imports fhir.resources: parsing, validation and JSON helpers."""

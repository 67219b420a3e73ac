"""Bulk data in and out: the NDJSON/Bundle importer (`fhir-server import`) and $export jobs."""

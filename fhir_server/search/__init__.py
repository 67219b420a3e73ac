"""FHIR search: parse -> clauses -> one compiler per parameter type -> Mongo filter."""

"""FHIR $operations: a registry (feeds routing and the CapabilityStatement) + one module each."""

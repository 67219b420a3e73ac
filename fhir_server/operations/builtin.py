"""The operation modules shipped with the server (each registers itself on import)."""

import fhir_server.operations.health_cards  # noqa: F401

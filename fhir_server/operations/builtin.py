"""The operation modules shipped with the server (each registers itself on import)."""

import fhir_server.operations.analytics  # noqa: F401
import fhir_server.operations.analytics_serious  # noqa: F401
import fhir_server.operations.declarations  # noqa: F401
import fhir_server.operations.everything  # noqa: F401
import fhir_server.operations.export  # noqa: F401
import fhir_server.operations.health_cards  # noqa: F401
import fhir_server.operations.immunization_forecast  # noqa: F401
import fhir_server.operations.match  # noqa: F401
import fhir_server.operations.scheduling  # noqa: F401
import fhir_server.operations.terminology  # noqa: F401
import fhir_server.operations.validate  # noqa: F401

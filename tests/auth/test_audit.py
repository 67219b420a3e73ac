"""AuditEvents are built from fixed shapes and stored without re-validation: check those shapes
against the R4 model (FHIR R4 auditevent.html) here."""

from __future__ import annotations

import pytest

from fhir_server.auth.audit import audit_event, outcome_code
from fhir_server.auth.principal import Principal
from fhir_server.model.parse import validate_resource


@pytest.mark.parametrize(("principal", "method", "interaction", "what", "query", "status"), [
    (Principal("citizen", "acc-1", patient="p1", address="10.0.0.1"), "GET", "read",
     ["Patient/p1"], None, 200),
    (Principal("staff", "acc-2", roles=frozenset({"admin"})), "GET", "search-type", [],
     "name=nguyen", 200),
    (Principal("system", "site-1"), "POST", "operation", ["Patient/p1"], None, 422),
    (Principal("citizen", "acc-3", patient="p3"), "DELETE", "delete", ["AdverseEvent/x"], None,
     500),
])
def test_events_are_valid_fhir(principal: Principal, method: str, interaction: str,
                               what: list[str], query: str | None, status: int) -> None:
    event = audit_event(principal, method, interaction, what, query, status,
                        "2026-11-25T10:00:00.000+00:00")
    validate_resource(event, "AuditEvent")
    assert event["outcome"] == outcome_code(status)
    if principal.patient:
        assert event["agent"][0]["who"] == {"reference": f"Patient/{principal.patient}"}


def test_outcome_codes() -> None:
    assert (outcome_code(200), outcome_code(404), outcome_code(503)) == ("0", "4", "8")

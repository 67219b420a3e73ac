"""The access rules cover every stored R4 type (FHIR R4 security.html, compartmentdefinition-
patient.html; the type classes of auth/guard.py follow the generated structuredefinition-
security-category and the Patient CompartmentDefinition; README "Types and roles")."""

from __future__ import annotations

import pytest

from fhir_server import access
from fhir_server.auth import guard
from fhir_server.auth.principal import Principal
from fhir_server.auth.scopes import ScopeSet
from fhir_server.errors import Forbidden
from fhir_server.resource_types import RESOURCE_TYPES
from fhir_server.spec import patient_compartment

BASE = "https://fhir.test/fhir"
CITIZEN = Principal("citizen", "acc", ScopeSet.parse("patient/*.*"), frozenset({"p1"}),
                    patient="p1")
NURSE = Principal("staff", "n", ScopeSet.parse("user/*.*"), roles=frozenset({"practitioner"}))
ANALYST = Principal("staff", "a", ScopeSet.parse("user/*.*"), roles=frozenset({"analyst"}))
ADMIN = Principal("staff", "ad", ScopeSet.parse("user/*.*"), roles=frozenset({"admin"}))


def _allowed(action: str, type_name: str, caller: Principal) -> bool:
    try:
        guard.check_type(action, type_name, caller)
    except Forbidden:
        return False
    return True


def test_every_type_has_exactly_one_class() -> None:
    # every stored type is clinical (Patient compartment), shared, or admin only
    clinical = set(patient_compartment()) - guard.SHARED
    for name in RESOURCE_TYPES:
        classes = [name in clinical and name not in guard.ADMIN_ONLY, name in guard.SHARED,
                   name in guard.ADMIN_ONLY]
        assert classes.count(True) == 1, name
    assert {"Observation", "Encounter", "Condition", "Claim"} <= clinical
    assert {"Organization", "Location", "CodeSystem", "SearchParameter", "Library",
            "HealthcareService", "Schedule"} <= guard.SHARED
    assert {"AuditEvent", "Binary", "Bundle", "Subscription", "Task"} <= guard.ADMIN_ONLY


@pytest.mark.parametrize("type_name", sorted(RESOURCE_TYPES))
def test_citizens_reach_no_type_outside_their_compartment_or_the_shared_data(
        type_name: str) -> None:
    # security.html: a citizen reads shared data, and clinical types only of their compartment
    reads = _allowed("r", type_name, CITIZEN)
    shared = type_name in guard.SHARED
    in_compartment = type_name in patient_compartment()
    assert reads == ((shared or in_compartment) and type_name not in guard.NOT_FOR_CITIZENS)
    if _allowed("c", type_name, CITIZEN):
        assert type_name in guard.CITIZEN_WRITABLE
    if reads and not shared:  # the per-resource rule: only their own patients' records
        assert access.restriction(CITIZEN, type_name) is not None or type_name == "Patient"


def test_staff_roles_on_new_types() -> None:
    # practitioners: clinical data and the directory; conformance definitions are admin-written
    assert _allowed("c", "Observation", NURSE) and _allowed("r", "Encounter", NURSE)
    assert _allowed("c", "HealthcareService", NURSE) and _allowed("u", "CodeSystem", NURSE)
    assert not _allowed("c", "SearchParameter", NURSE)
    assert not _allowed("u", "CapabilityStatement", NURSE) and _allowed("r", "Library", NURSE)
    assert not _allowed("r", "Binary", NURSE) and not _allowed("s", "Subscription", NURSE)
    assert all(_allowed(a, t, ADMIN) for t in RESOURCE_TYPES for a in "crus")
    # analysts: shared reference data (and MeasureReport), no clinical record
    assert _allowed("s", "Library", ANALYST) and _allowed("r", "Medication", ANALYST)
    assert not _allowed("r", "Observation", ANALYST) and not _allowed("c", "Library", ANALYST)


def test_shared_content_naming_another_patient_is_hidden() -> None:
    # a Device affixed to another patient is not reference data for this citizen
    mine = {"resourceType": "Device", "id": "d1", "patient": {"reference": "Patient/p1"}}
    theirs = {"resourceType": "Device", "id": "d2", "patient": {"reference": "Patient/p2"}}
    free = {"resourceType": "Device", "id": "d3", "status": "active"}
    assert access.visible(CITIZEN, "Device", mine, BASE)
    assert not access.visible(CITIZEN, "Device", theirs, BASE)
    assert access.visible(CITIZEN, "Device", free, BASE)
    assert access.visible(ANALYST, "Device", free, BASE)
    assert not access.visible(ANALYST, "Device", mine, BASE)
    assert access.restriction(CITIZEN, "Device") is not None
    assert access.restriction(CITIZEN, "Organization") is None


def test_citizens_cannot_point_at_admin_only_types() -> None:
    # a citizen's write may not reference a type they can never see (a Binary, a Task)
    proposed = {"resourceType": "Communication", "status": "completed",
                "subject": {"reference": "Patient/p1"},
                "payload": [{"contentReference": {"reference": "Binary/b1"}}]}
    with pytest.raises(Forbidden):
        access.check_write(CITIZEN, "c", "Communication", proposed, None, BASE,
                           lambda _t, _i: None)

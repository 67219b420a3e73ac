"""SMART scopes v1 and v2 (SMART App Launch 2.x, "Scopes and Launch Context")."""

from __future__ import annotations

import pytest

from fhir_server.auth.scopes import ScopeSet, parse_scope
from fhir_server.errors import InvalidRequest


def test_v1_and_v2_forms() -> None:
    read = parse_scope("patient/*.read")
    assert read is not None and read.actions == frozenset("rs")
    write = parse_scope("user/Immunization.write")
    assert write is not None and write.actions == frozenset("cud")
    assert write.allows("Immunization", "c") and not write.allows("Patient", "c")
    v2 = parse_scope("system/Patient.rs")
    assert v2 is not None and v2.context == "system" and v2.actions == frozenset("rs")
    assert parse_scope("openid") is None and parse_scope("patient/*.bogus") is None


def test_v2_order_is_enforced() -> None:
    with pytest.raises(InvalidRequest):
        parse_scope("patient/*.sr")


def test_scope_sets_and_narrowing() -> None:
    granted = ScopeSet.parse("system/*.read system/Immunization.write")
    assert granted.allows("Patient", "r", ("system",))
    assert not granted.allows("Patient", "c", ("system",))
    assert granted.allows("Immunization", "c", ("system",))
    assert not granted.allows("Patient", "r", ("patient",))
    narrowed = granted.narrowed("system/Patient.read system/Patient.write")
    assert narrowed.raw == ("system/Patient.read",)

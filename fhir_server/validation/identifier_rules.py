"""National identifiers and phone numbers checked on every Patient write, not only on those
claiming the Vietnamese profile (issue 14 point 1: "CCCD 12345 is accepted").

The rules are the VN Patient profile's own (profiles/structuredefinitions/vn-patient.json):
the invariants on `Patient.identifier` (CCCD 12 digits, CMND 9, BHYT and BHXH formats) and the
custom rule `vn-cccd-consistency` (province code, century/sex digit and birth year agree with
gender and birth date). The rest of that profile (required elements, bindings) applies only to
resources that claim it. Phone numbers in `telecom` must be valid and in E.164 form for
citizens and vaccination sites (staff); hospital systems and the server's own imports keep
their numbers as sent (Synthea's US numbers, legacy exports).
"""

from __future__ import annotations

from dataclasses import replace
from typing import Any

import phonenumbers

from fhir_server.auth.principal import CITIZEN, STAFF, current_principal
from fhir_server.errors import Issue
from fhir_server.validation.profile_check import ProfileValidator
from fhir_server.validation.profile_compile import CompiledProfile, ElementRule

VN_PATIENT = "https://fhir.moh.gov.vn/fhir/StructureDefinition/vn-patient"
IDENTIFIER_RULES = frozenset({"vn-cccd-consistency"})
PHONE_CHECKED_FOR = frozenset({CITIZEN, STAFF})


def identifier_profile(profile: CompiledProfile) -> CompiledProfile:
    """The profile reduced to its identifier invariants and identifier custom rules."""
    root = profile.root
    identifiers = [replace(child, cardinality=None, fixed=None, pattern=None, binding=None,
                           type_code=None, targets=None, choice_keys=None, slices=[],
                           children=[])
                   for child in root.children if child.path == f"{profile.type}.identifier"]
    kept = ElementRule(root.path, root.name,
                       constraints=[c for c in root.constraints if c.rule in IDENTIFIER_RULES],
                       children=identifiers)
    return CompiledProfile(profile.url, profile.name, profile.type, profile.kind, kept)


class IdentifierChecker:
    """The ResourceChecker for identifiers and phone numbers of every Patient written."""

    def __init__(self, validator: ProfileValidator, profile: CompiledProfile) -> None:
        self.validator = validator
        self.profile = identifier_profile(profile)

    def check(self, resource: dict[str, Any]) -> list[Issue]:
        """Issues of a Patient's identifiers (and of its phone numbers, for citizens/sites)."""
        if resource.get("resourceType") != self.profile.type:
            return []
        issues = self.validator.validate(_with_systems(resource), self.profile)
        if current_principal().kind in PHONE_CHECKED_FOR:
            issues += phone_issues(resource)
        return issues


def _with_systems(resource: dict[str, Any]) -> dict[str, Any]:
    """The resource as checked: an identifier with no system gets a placeholder one, so the
    profile's "system = X implies ..." invariants hold for it (no system: no national number)
    instead of evaluating to empty; indices, and so the reported paths, stay the same."""
    identifiers = resource.get("identifier")
    if not isinstance(identifiers, list) or all(
            isinstance(i, dict) and i.get("system") for i in identifiers):
        return resource
    return {**resource, "identifier": [
        {**i, "system": "urn:fhir-server:no-system"} if isinstance(i, dict) and
        not i.get("system") else i for i in identifiers]}


def phone_issues(resource: dict[str, Any]) -> list[Issue]:
    """Phone numbers that are not valid E.164 numbers ('+84912345678')."""
    issues = []
    type_name = resource.get("resourceType")
    for index, point in enumerate(resource.get("telecom") or ()):
        value = point.get("value") if isinstance(point, dict) else None
        if not isinstance(point, dict) or point.get("system") != "phone" or \
                not isinstance(value, str):
            continue
        try:
            valid = value.startswith("+") and phonenumbers.is_valid_number(
                phonenumbers.parse(value, None))
        except phonenumbers.NumberParseException:
            valid = False
        if not valid:
            issues.append(Issue("value", f"'{value[:40]}' is not a phone number in E.164 form "
                                "(e.g. +84912345678)",
                                expression=(f"{type_name}.telecom[{index}].value",)))
    return issues

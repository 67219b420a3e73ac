"""Named validation rules that FHIRPath cannot express nicely, referenced by profile constraints
through the extension `.../StructureDefinition/validation-custom-rule` (valueCode = the name).

- `vn-cccd-consistency` (on Patient): a 12-digit CCCD number is PPP C YY NNNNNN where PPP is the
  code of the province of birth registration ("0" + a GSO province code, legacy list of 63),
  C encodes century and sex (0/1: 1900s male/female, 2/3: 2000s, 4/5: 2100s, 6/7: 2200s,
  8/9: 2300s) and YY is the last two digits of the birth year (Thông tư 07/2016/TT-BCA,
  Article 7, kept by its successor circulars). Checked against Patient.gender (male/female
  only) and Patient.birthDate.
- `vn-commune-in-province` (on Address): the commune code's `province` property (CodeSystem
  vn-commune) equals the address's province code.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

from fhir_server.errors import FhirError, Issue
from fhir_server.terminology import TerminologyService

TERMINOLOGY = "https://fhir.moh.gov.vn/terminology/CodeSystem"
LEGACY_PROVINCES = f"{TERMINOLOGY}/vn-province-legacy"
COMMUNES = f"{TERMINOLOGY}/vn-commune"
PROVINCE_EXTENSION = "https://fhir.moh.gov.vn/fhir/StructureDefinition/vn-address-province"
COMMUNE_EXTENSION = "https://fhir.moh.gov.vn/fhir/StructureDefinition/vn-address-commune"


@dataclass(frozen=True)
class RuleContext:
    """What a custom rule may use: the terminology service and the identifier systems."""

    terminology: TerminologyService
    systems: Mapping[str, str]


Rule = Callable[[Any, dict[str, Any], str, RuleContext], list[Issue]]


def cccd_consistency(patient: Any, resource: dict[str, Any], path: str,
                     context: RuleContext) -> list[Issue]:
    """Issues for CCCD numbers that disagree with the patient's gender or birth date."""
    issues: list[Issue] = []
    identifiers = patient.get("identifier", []) if isinstance(patient, dict) else []
    for index, identifier in enumerate(identifiers):
        value = identifier.get("value") if isinstance(identifier, dict) else None
        if identifier.get("system") != context.systems["cccd"] or not isinstance(value, str) \
                or len(value) != 12 or not value.isdigit():
            continue  # the format invariant reports malformed numbers
        where = f"{path}.identifier[{index}].value"
        for problem in _cccd_problems(value, patient, context):
            issues.append(Issue("business-rule", f"vn-pat-6: CCCD '{value}': {problem}",
                                expression=(where,)))
    return issues


def _cccd_problems(value: str, patient: dict[str, Any], context: RuleContext) -> list[str]:
    problems = []
    province = value[1:3]
    if value[0] != "0" or not _legacy_province(context.terminology, province):
        problems.append(f"'{value[:3]}' is not a province code")
    digit = int(value[3])
    gender = patient.get("gender")
    if gender in ("male", "female") and ("female" if digit % 2 else "male") != gender:
        problems.append(f"digit 4 ({digit}) is for a {'fe' if digit % 2 else ''}male citizen, "
                        f"but gender is {gender}")
    birth = patient.get("birthDate")
    if isinstance(birth, str) and birth[:4].isdigit():
        year = int(birth[:4])
        century = 1900 + 100 * (digit // 2)
        if not century <= year < century + 100:
            problems.append(f"digit 4 ({digit}) is for births in {century}-{century + 99}, "
                            f"but birthDate is {birth}")
        elif value[4:6] != birth[2:4]:
            problems.append(f"digits 5-6 ({value[4:6]}) must be the birth year's last two "
                            f"digits ({birth[2:4]})")
    return problems


@lru_cache(maxsize=256)
def _legacy_province(service: TerminologyService, code: str) -> bool:
    try:
        return bool(service.validate_code(LEGACY_PROVINCES, code)["result"])
    except FhirError:
        return False


def _coding_code(address: dict[str, Any], url: str) -> str | None:
    for extension in address.get("extension", []):
        if isinstance(extension, dict) and extension.get("url") == url:
            code = (extension.get("valueCoding") or {}).get("code")
            return code if isinstance(code, str) else None
    return None


def commune_in_province(address: Any, resource: dict[str, Any], path: str,
                        context: RuleContext) -> list[Issue]:
    """An issue when the commune code is not in the address's province."""
    if not isinstance(address, dict):
        return []
    province = _coding_code(address, PROVINCE_EXTENSION)
    commune = _coding_code(address, COMMUNE_EXTENSION)
    if province is None or commune is None:
        return []
    found = _commune_province(context.terminology, commune)
    if found is None or found == province:
        return []  # an unknown commune code is reported by the extension's binding
    return [Issue("business-rule", f"vn-pat-11: commune {commune} lies in province {found}, "
                  f"not in province {province}", expression=(f"{path}.extension",))]


@lru_cache(maxsize=4096)
def _commune_province(service: TerminologyService, code: str) -> str | None:
    try:
        found = service.lookup(COMMUNES, code)
    except FhirError:
        return None
    return next((p["value"].get("valueCode") for p in found["property"]
                 if p["code"] == "province"), None)


RULES: dict[str, Rule] = {
    "vn-cccd-consistency": cccd_consistency,
    "vn-commune-in-province": commune_in_province,
}

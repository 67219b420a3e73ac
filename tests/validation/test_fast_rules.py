"""Each primitive check of the fast path accepts only what the reference accepts.

For every FHIR primitive type (datatypes.html#primitive) a value goes into an Extension's
value[x] (or a Narrative div) of a Patient: wherever fast_check says "certainly valid", the
JSON-type checks (json.html#primitive) find nothing and fhir.resources' model_validate
accepts. Ordinary values of each type do take the fast path.
"""

from __future__ import annotations

from typing import Any

import pytest
from fhir.resources.R4B import get_fhir_model_class

from fhir_server.model.decimals import Decimal
from fhir_server.validation.fast_check import certainly_valid
from fhir_server.validation.fast_rules import compile_rules, model_rules_data
from fhir_server.validation.json_types import check_json_types
from tests.validation.fast_differential import BOOLEANS, NUMBERS, STRINGS

TYPES = ("Boolean", "Integer", "UnsignedInt", "PositiveInt", "Decimal", "String", "Code",
         "Id", "Oid", "Uri", "Url", "Canonical", "Markdown", "Base64Binary", "Date",
         "DateTime", "Instant", "Time", "Uuid")
VALUES: tuple[Any, ...] = (*STRINGS, *NUMBERS, *BOOLEANS, "2021", "2021-07", "2021-07-14",
                           "2021-07-14T09:30:00+07:00", "2021-07-14T09:30:00.123Z", "09:30:00",
                           "urn:oid:2.16.840.1.113883", "https://example.org/fhir/x?a=1#b",
                           "http://example.org:99999/x", "http://-x.org", "string", "#frag",
                           "a.b-c", "ABC=", "AB==", "A B=", "0.50", Decimal("-0.0"), -0.0,
                           Decimal("12.5"), 3.0, "mailto:a@b.org", "é" * 3, "a" * 300)
ORDINARY = {"Boolean": True, "Integer": -3, "UnsignedInt": 0, "PositiveInt": 2,
            "Decimal": Decimal("0.50"), "String": "Nguyễn Văn An", "Code": "in-progress",
            "Id": "a.b-1", "Oid": "urn:oid:1.2.3", "Uri": "urn:x", "Url": "https://x.org/a",
            "Canonical": "http://hl7.org/fhir/ValueSet/x|4.0.1", "Markdown": "*x*",
            "Base64Binary": "QUJD", "Date": "2020-02-29", "DateTime": "2021-07-14T09:30:00Z",
            "Instant": "2021-07-14T09:30:00.000+07:00", "Time": "09:30:00"}


def _patient(kind: str, value: Any) -> dict[str, Any]:
    return {"resourceType": "Patient",
            "extension": [{"url": "http://example.org/x", f"value{kind}": value}]}


def _reference_accepts(data: dict[str, Any]) -> bool:
    if check_json_types(data, "Patient"):
        return False
    try:
        get_fhir_model_class("Patient").model_validate(data)
    except Exception:  # noqa: BLE001 - any rejection
        return False
    return True


@pytest.mark.parametrize("kind", TYPES)
def test_a_primitive_certainly_valid_only_where_the_reference_accepts(kind: str) -> None:
    wrong = [repr(value) for value in VALUES
             if certainly_valid(_patient(kind, value), "Patient")
             and not _reference_accepts(_patient(kind, value))]
    assert wrong == []
    if kind in ORDINARY:  # the fast path is taken for ordinary values
        assert certainly_valid(_patient(kind, ORDINARY[kind]), "Patient")
    else:  # uuid: pydantic's UUID4 parsing is left to the reference
        assert not certainly_valid(_patient(kind, "urn:uuid:c757873d-ec9a-4326-a141-"
                                                  "556f43239520"), "Patient")


@pytest.mark.parametrize("div", [
    '<div xmlns="http://www.w3.org/1999/xhtml"><p>x</p></div>', "<div>x</div>", "x", "",
    '<div xmlns="http://www.w3.org/1999/xhtml"><script>x</script></div>', "<div", 1])
def test_a_narrative_certainly_valid_only_where_the_reference_accepts(div: Any) -> None:
    # narrative.html#xhtml: the div is FHIR XHTML (checked by json_types via check_div)
    data = {"resourceType": "Patient", "text": {"status": "generated", "div": div}}
    assert not certainly_valid(data, "Patient") or _reference_accepts(data)


def test_compiled_rules_cover_every_model_and_choice() -> None:
    # formats.html#choice: Observation.value[x] is one of its types; effective[x] at most one
    compiled = compile_rules(model_rules_data())
    observation = compiled.resources["Observation"]
    assert {"valueQuantity", "valueString", "_valueString", "effectiveDateTime"} <= set(
        observation.fields)
    assert frozenset({"effectiveDateTime", "effectivePeriod", "effectiveInstant",
                      "effectiveTiming"}) in observation.choices
    assert observation.required == frozenset({"code", "status"})
    assert "Patient" in compiled.resources and "Address" not in compiled.resources
    assert compiled.models["FHIRPrimitiveExtension"].any_of == frozenset({"id", "extension"})

"""The *_parameters converters produce valid R4 Parameters per the operation definitions
(CodeSystem-lookup, ValueSet-validate-code, ValueSet-expand, ConceptMap-translate)."""

from __future__ import annotations

from typing import Any

from fhir.resources.R4B import get_fhir_model_class

from fhir_server.terminology import (
    TerminologyService,
    expand_parameters,
    lookup_parameters,
    translate_parameters,
    validate_code_parameters,
)


def _valid(params: dict[str, Any]) -> dict[str, list[dict[str, Any]]]:
    get_fhir_model_class("Parameters").model_validate(params)
    by_name: dict[str, list[dict[str, Any]]] = {}
    for p in params["parameter"]:
        by_name.setdefault(p["name"], []).append(p)
    return by_name


def test_lookup_parameters(tx: TerminologyService, urls: dict[str, str]) -> None:
    """name (1..1), version, display (1..1), designation and property with parts."""
    out = _valid(lookup_parameters(tx.lookup(urls["CodeSystem/vn-covid19-vaccine"], "moderna")))
    assert out["name"][0]["valueString"] and out["display"][0]["valueString"].endswith(
        "(Spikevax)")
    props = {p["part"][0]["valueCode"]: p["part"][1] for p in out["property"]}
    assert props["cvx"] == {"name": "value", "valueCode": "207"}
    assert props["series-doses"] == {"name": "value", "valueInteger": 2}
    assert out["designation"][0]["part"][0] == {"name": "language", "valueCode": "en"}


def test_validate_code_parameters(tx: TerminologyService, urls: dict[str, str]) -> None:
    """result (1..1), message when false, display when known."""
    ok = _valid(validate_code_parameters(tx.validate_code(urls["ValueSet/vn-province"], "79")))
    assert ok["result"][0]["valueBoolean"] is True and "display" in ok
    bad = _valid(validate_code_parameters(tx.validate_code(urls["ValueSet/vn-province"], "02")))
    assert bad["result"][0]["valueBoolean"] is False and "message" in bad


def test_expand_parameters(tx: TerminologyService, urls: dict[str, str]) -> None:
    """return (1..1) is the expanded ValueSet, itself a valid resource."""
    vs = tx.expand(urls["ValueSet/vn-covid19-vaccine"], count=3)
    get_fhir_model_class("ValueSet").model_validate(vs)
    out = _valid(expand_parameters(vs))
    assert out["return"][0]["resource"]["expansion"]["total"] == 8


def test_translate_parameters(tx: TerminologyService, urls: dict[str, str]) -> None:
    """result, then one match per target with equivalence, concept (Coding) and source."""
    res = tx.translate(urls["ConceptMap/vn-ward-legacy-to-2025"],
                       urls["CodeSystem/vn-ward-legacy"], "00007")
    out = _valid(translate_parameters(res))
    assert out["result"][0]["valueBoolean"] is True and len(out["match"]) == 2
    names = [p["name"] for p in out["match"][0]["part"]]
    assert names == ["equivalence", "concept", "source"]

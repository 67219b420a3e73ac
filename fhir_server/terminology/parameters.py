"""Converters from service results to FHIR R4 Parameters resources, per the operation
definitions CodeSystem-lookup, CodeSystem/ValueSet-validate-code, ValueSet-expand and
ConceptMap-translate (http://hl7.org/fhir/R4/operationslist.html)."""

from __future__ import annotations

from typing import Any

Param = dict[str, Any]


def _params(parameters: list[Param]) -> dict[str, Any]:
    return {"resourceType": "Parameters", "parameter": parameters}


def lookup_parameters(result: dict[str, Any]) -> dict[str, Any]:
    """CodeSystem/$lookup out-parameters: name, version, display, designation*, property*."""
    params: list[Param] = [{"name": "name", "valueString": result["name"]}]
    if result.get("version"):
        params.append({"name": "version", "valueString": result["version"]})
    params.append({"name": "display", "valueString": result.get("display") or result["code"]})
    for d in result.get("designation", []):
        parts: list[Param] = []
        if d.get("language"):
            parts.append({"name": "language", "valueCode": d["language"]})
        if d.get("use"):
            parts.append({"name": "use", "valueCoding": d["use"]})
        parts.append({"name": "value", "valueString": d["value"]})
        params.append({"name": "designation", "part": parts})
    if result.get("definition"):
        params.append({"name": "property", "part": [
            {"name": "code", "valueCode": "definition"},
            {"name": "value", "valueString": result["definition"]}]})
    for p in result.get("property", []):
        (vkey, value), = p["value"].items()
        params.append({"name": "property", "part": [
            {"name": "code", "valueCode": p["code"]}, {"name": "value", vkey: value}]})
    return _params(params)


def validate_code_parameters(result: dict[str, Any]) -> dict[str, Any]:
    """$validate-code out-parameters: result, message?, display?."""
    params: list[Param] = [{"name": "result", "valueBoolean": bool(result["result"])}]
    if result.get("message"):
        params.append({"name": "message", "valueString": result["message"]})
    if result.get("display"):
        params.append({"name": "display", "valueString": result["display"]})
    return _params(params)


def expand_parameters(valueset: dict[str, Any]) -> dict[str, Any]:
    """ValueSet/$expand out-parameters: return (the expanded ValueSet).

    Per the R4 operations framework, a REST response whose only out-parameter is a resource
    named 'return' is that resource itself: the REST layer should send `valueset` directly.
    """
    return _params([{"name": "return", "resource": valueset}])


def translate_parameters(result: dict[str, Any]) -> dict[str, Any]:
    """ConceptMap/$translate out-parameters: result, message?, match* (equivalence, concept,
    source)."""
    params: list[Param] = [{"name": "result", "valueBoolean": bool(result["result"])}]
    if result.get("message"):
        params.append({"name": "message", "valueString": result["message"]})
    for m in result.get("match", []):
        parts: list[Param] = [{"name": "equivalence", "valueCode": m["equivalence"]}]
        if m.get("concept"):
            parts.append({"name": "concept", "valueCoding": m["concept"]})
        parts.append({"name": "source", "valueUri": m["source"]})
        params.append({"name": "match", "part": parts})
    return _params(params)

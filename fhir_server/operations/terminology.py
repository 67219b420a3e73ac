"""Terminology operations over terminology/ (+ profiles/ ValueSets), per the R4
OperationDefinitions CodeSystem-lookup, ValueSet-expand, ValueSet-validate-code,
CodeSystem-validate-code and ConceptMap-translate (http://hl7.org/fhir/R4/terminology-service.html).

GET takes query parameters, POST a Parameters body (Coding/CodeableConcept inputs need POST).
At the instance level the stored resource is used; a resource given inline (`valueSet`,
`codeSystem`, `conceptMap`) is used for that call. $expand answers the expanded ValueSet
itself (a single `return` resource is sent as is); the others answer Parameters.
Unknown code systems, value sets and maps answer 404 with an OperationOutcome.
"""

from __future__ import annotations

from typing import Any

from fhir_server.conformance import SOURCE_PREFIX, conformance_terminology, terminology_with
from fhir_server.errors import InvalidRequest
from fhir_server.interactions.context import Services
from fhir_server.operations.registry import OperationCall, OperationResult, operation
from fhir_server.terminology import (
    TerminologyService,
    lookup_parameters,
    translate_parameters,
    validate_code_parameters,
)

_INLINE = {"CodeSystem": "codeSystem", "ValueSet": "valueSet", "ConceptMap": "conceptMap"}
_READ: dict[str, Any] = {"methods": ("GET", "POST"), "access": "public"}  # reference data


def _string(call: OperationCall, name: str) -> str | None:
    value = call.first(name)
    if value is None or isinstance(value, str):
        return value or None
    raise InvalidRequest.at(f"Parameter '{name}' must be a string", name, "value")


def _integer(call: OperationCall, name: str) -> int | None:
    value = call.first(name)
    if value is None or (isinstance(value, int) and not isinstance(value, bool)):
        return value
    if isinstance(value, str) and value.isdigit() and len(value) < 10:
        return int(value)
    raise InvalidRequest.at(f"Parameter '{name}' must be a non-negative integer", name,
                            "value")


def _target(svc: Services, call: OperationCall) -> tuple[TerminologyService, str | None]:
    """The service to use and the canonical URL of the instance / inline resource, if any."""
    kind = call.type_name or ""
    inline = call.first(_INLINE.get(kind, ""))
    if isinstance(inline, dict) and inline.get("resourceType") == kind:
        if not inline.get("url"):
            raise InvalidRequest.at(f"The inline {kind} needs a url", _INLINE[kind], "required")
        return terminology_with(inline), inline["url"]
    if call.resource_id is None:
        return conformance_terminology(), None
    stored = svc.store.read(kind, call.resource_id).resource or {}
    url = stored.get("url")
    if not isinstance(url, str):
        raise InvalidRequest(f"{kind}/{call.resource_id} has no url")
    version = stored.get("version")
    canonical = f"{url}|{version}" if version else url
    if str((stored.get("meta") or {}).get("source", "")).startswith(SOURCE_PREFIX):
        return conformance_terminology(), canonical
    return terminology_with(stored), canonical


def _coding(call: OperationCall) -> tuple[str | None, str | None, str | None]:
    """(system, code, display) from system/code/display or a `coding` input."""
    coding = call.first("coding")
    if isinstance(coding, dict):
        return coding.get("system"), coding.get("code"), coding.get("display")
    return _string(call, "system"), _string(call, "code"), _string(call, "display")


def _codings(call: OperationCall) -> list[tuple[str | None, str | None, str | None]]:
    """One (system, code, display) per coding of `codeableConcept`, else the single one."""
    concept = call.first("codeableConcept")
    if isinstance(concept, dict):
        codings = [(c.get("system"), c.get("code"), c.get("display"))
                   for c in concept.get("coding", []) if isinstance(c, dict)]
        if not codings:
            raise InvalidRequest.at("codeableConcept has no coding", "codeableConcept",
                                    "required")
        return codings
    return [_coding(call)]


@operation("lookup", type_level=True, types=("CodeSystem", "ValueSet"), **_READ,
           definition="http://hl7.org/fhir/OperationDefinition/CodeSystem-lookup",
           documentation="Details of a code: name, version, display, designations, "
           "properties (parent/child included). Also answered on ValueSet/$lookup, as the "
           "official R4 transaction example (Bundle/bundle-transaction) calls it.")
def lookup(svc: Services, call: OperationCall) -> OperationResult:
    """CodeSystem/$lookup (system + code, or coding; version)."""
    system, code, _ = _coding(call)
    if not system or not code:
        raise InvalidRequest.at("$lookup needs a system and a code (or a coding)", "code",
                                "required")
    result = conformance_terminology().lookup(system, code, _string(call, "version"))
    return OperationResult(lookup_parameters(result))


@operation("expand", type_level=True, instance=True, types=("ValueSet",), **_READ,
           definition="http://hl7.org/fhir/OperationDefinition/ValueSet-expand",
           documentation="Expand a value set; `filter` matches display and designations "
           "(case and accents ignored), `count`/`offset` page the expansion.")
def expand(svc: Services, call: OperationCall) -> OperationResult:
    """ValueSet/$expand (url | valueSet | instance; filter, count, offset)."""
    service, canonical = _target(svc, call)
    url = canonical or _string(call, "url")
    if url is None:
        raise InvalidRequest.at("$expand needs url, valueSet or a ValueSet instance", "url",
                                "required")
    version = _string(call, "valueSetVersion")
    if version and "|" not in url:
        url = f"{url}|{version}"
    offset = _integer(call, "offset") or 0
    result = service.expand(url, _string(call, "filter"), _integer(call, "count"), offset)
    return OperationResult(result)


@operation("validate-code", type_level=True, instance=True, types=("ValueSet", "CodeSystem"),
           **_READ,
           definition="http://hl7.org/fhir/OperationDefinition/ValueSet-validate-code",
           documentation="ValueSet/$validate-code and CodeSystem/$validate-code "
           "(http://hl7.org/fhir/OperationDefinition/CodeSystem-validate-code): code + system, "
           "coding or codeableConcept; display is checked when given.")
def validate_code(svc: Services, call: OperationCall) -> OperationResult:
    """Is the code in the value set (or code system)? result, message, display."""
    service, canonical = _target(svc, call)
    url = canonical or _string(call, "url")
    if url is None:
        raise InvalidRequest.at(f"$validate-code needs url or a {call.type_name} instance",
                                "url", "required")
    if not service.store.has(call.type_name or "", url):
        service.store.find(call.type_name or "", url)  # 404 with the precise message
    version = _string(call, "version") or _string(call, "systemVersion")
    results = []
    for system, code, display in _codings(call):
        if not code:
            raise InvalidRequest.at("$validate-code needs a code (or coding, codeableConcept)",
                                    "code", "required")
        if call.type_name == "CodeSystem":
            system = system if system is not None else url.partition("|")[0]
            results.append(service.validate_code(url, code, system, display, version))
        else:
            results.append(service.validate_code(url, code, system, display))
    best = next((r for r in results if r["result"]), results[0])
    return OperationResult(validate_code_parameters(best))


@operation("translate", type_level=True, instance=True, types=("ConceptMap",), **_READ,
           definition="http://hl7.org/fhir/OperationDefinition/ConceptMap-translate",
           documentation="Translate a code through a concept map (e.g. legacy province or "
           "ward -> the units in force since 1 July 2025); `targetsystem` filters matches.")
def translate(svc: Services, call: OperationCall) -> OperationResult:
    """ConceptMap/$translate (url | source | the code's system; code + system, coding or
    codeableConcept)."""
    if call.first("reverse") in (True, "true"):
        raise InvalidRequest.at("reverse translation is not supported", "reverse",
                                "not-supported")
    service, canonical = _target(svc, call)
    target_system = _string(call, "targetsystem")
    matches: list[dict[str, Any]] = []
    messages: list[str] = []
    for system, code, _ in _codings(call):
        if not system or not code:
            raise InvalidRequest.at("$translate needs a system and a code (or a coding)",
                                    "code", "required")
        where = canonical or _string(call, "url") or _string(call, "source") or system
        result = service.translate(where, system, code)
        matches += [m for m in result["match"] if target_system is None
                    or (m.get("concept") or {}).get("system") == target_system]
        messages += [result["message"]] if result.get("message") else []
    ok = any(m["equivalence"] not in ("unmatched", "disjoint") for m in matches)
    out: dict[str, Any] = {"result": ok, "match": matches}
    if not ok:
        out["message"] = "; ".join(messages) or f"No match in target system {target_system}"
    return OperationResult(translate_parameters(out))

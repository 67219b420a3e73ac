"""QuestionnaireResponse/$declaration-summary (issue 14 point 8): how many health
declarations were made in a period, in all and per area, for the authorities -- analysts
included, who read aggregates and no personal data (the declarations themselves are searched
by sites and administrators with `QuestionnaireResponse?questionnaire=...&authored=...&area=`).

GET or POST, type level. Inputs: `authored` (0..2, date search values with prefixes, e.g.
ge2021-08-01, lt2021-09-01), `area` (0..50 province or commune codes, or system|code). Output:
a Parameters with `total` (valueInteger) and one `area` per input (parts `code`, `count`).
Staff (practitioner, analyst, admin) and system clients; citizens 403. The counts are made by
the server over every declaration (an indexed count per input), never a listing.
"""

from __future__ import annotations

from typing import Any

from fhir_server.auth.principal import CITIZEN
from fhir_server.campaign.declarations import DECLARATION
from fhir_server.errors import Forbidden, InvalidRequest
from fhir_server.interactions.context import Services
from fhir_server.operations.registry import OperationCall, OperationResult, operation

MAX_AREAS = 50
TYPE = "QuestionnaireResponse"


def _values(call: OperationCall, name: str, most: int, longest: int) -> list[str]:
    found = [value for key, value in call.parameters() if key == name]
    if len(found) > most:
        raise InvalidRequest.at(f"At most {most} '{name}' inputs", name, "too-costly")
    for value in found:
        if not isinstance(value, str) or not value or len(value) > longest:
            raise InvalidRequest.at(f"'{name}' is a short text", name, "value")
    return [str(value) for value in found]


@operation("declaration-summary", types=(TYPE,), type_level=True, methods=("GET", "POST"),
           documentation="Health declarations made in a period (authored), in all and per "
                         "area (province or commune code): counts only, for the authorities")
def declaration_summary(svc: Services, call: OperationCall) -> OperationResult:
    """QuestionnaireResponse/$declaration-summary."""
    if svc.caller.kind == CITIZEN:
        raise Forbidden("Declaration counts are for the health authorities")
    svc.store.unit.name(TYPE)  # audited as asked, whatever it counts
    if call.body is not None and not (isinstance(call.body, dict) and
                                      call.body.get("resourceType") == "Parameters"):
        raise InvalidRequest("$declaration-summary takes a Parameters resource (or the query)",
                             code="structure")
    periods = _values(call, "authored", 2, 40)
    areas = _values(call, "area", MAX_AREAS, 200)
    server = svc.internal()  # counts over every declaration; no resource leaves
    base = [("questionnaire", DECLARATION), *(("authored", value) for value in periods)]

    def count(extra: list[tuple[str, str]]) -> int:
        return server.store.count(TYPE, server.search.criteria_for(TYPE, [*base, *extra]))
    out: list[dict[str, Any]] = [{"name": "total", "valueInteger": count([])}]
    for area in areas:
        out.append({"name": "area", "part": [{"name": "code", "valueString": area},
                                             {"name": "count",
                                              "valueInteger": count([("area", area)])}]})
    return OperationResult({"resourceType": "Parameters", "parameter": out})

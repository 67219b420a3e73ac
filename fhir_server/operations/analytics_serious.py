"""AdverseEvent/$serious-events (issue 15 point 1: "serious ones listed"): the serious
post-vaccination adverse events of a period, area, group or vaccine, for the authorities'
follow-up, without their subject (R4 operations.html; a Parameters answer).

Inputs: as the indicator operations (analytics_inputs.py) but no `stratify-by`. Output: a
Parameters with `total` (valueInteger) and one `event` per serious event (by date), parts
`date` (valueDate, the onset, local date), `reaction` (valueCoding, vn-post-vaccination-reaction;
absent when not coded), `vaccine` (valueCoding vn-covid19-vaccine), `lot` (valueString), `site`
(valueReference Location/id): never the person nor the AdverseEvent's id (which would point at
a person's record). Or CSV (`date,reaction,vaccine,lot,site`). A case list is not a count: it
is not small-cell suppressed, so it carries no person attribute (area, group, age, sex).
Who: as the indicators (Repository.aggregate), one AuditEvent per call.
"""

from __future__ import annotations

import csv
import io
from dataclasses import replace
from typing import Any

from fhir_server.analytics import indicators
from fhir_server.analytics.query import IndicatorQuery, SeriousEvent
from fhir_server.errors import InvalidRequest
from fhir_server.interactions.context import Services
from fhir_server.operations.analytics import CSV, describe, parameters
from fhir_server.operations.analytics_csv import cell_text
from fhir_server.operations.analytics_inputs import indicator_query
from fhir_server.operations.analytics_measures import BY_OPERATION, TERMINOLOGY
from fhir_server.operations.registry import (
    OperationCall,
    OperationDefinition,
    OperationResult,
    register,
)

NAME = "serious-events"
RATES = BY_OPERATION["adverse-event-rates"]
READS = ("AdverseEvent", "Immunization", "Patient")
COLUMNS = ("date", "reaction", "vaccine", "lot", "site")


def _query(call: OperationCall) -> list[IndicatorQuery]:
    query = indicator_query(RATES, call)
    if query.by:
        raise InvalidRequest.at(f"${NAME} lists events: it takes no stratify-by",
                                "stratify-by", "not-supported")
    return [replace(query, by=())]


def _list(source: Any, query: IndicatorQuery) -> list[SeriousEvent]:
    return indicators.serious_events(source, query)


def _event(event: SeriousEvent) -> dict[str, Any]:
    parts: list[dict[str, Any]] = [{"name": "date", "valueDate": event.date}]
    if event.event:
        parts.append({"name": "reaction", "valueCoding": {
            "system": f"{TERMINOLOGY}/vn-post-vaccination-reaction", "code": event.event}})
    if event.vaccine:
        parts.append({"name": "vaccine", "valueCoding": {
            "system": f"{TERMINOLOGY}/vn-covid19-vaccine", "code": event.vaccine}})
    if event.lot:
        parts.append({"name": "lot", "valueString": event.lot})
    if event.site:
        parts.append({"name": "site", "valueReference": {"reference": f"Location/{event.site}"}})
    return {"name": "event", "part": parts}


def _csv(events: list[SeriousEvent]) -> bytes:
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerow(COLUMNS)
    for event in events:
        row = (event.date, event.event, event.vaccine, event.lot, event.site)
        writer.writerow([cell_text(value) for value in row])
    return buffer.getvalue().encode("utf-8")


def serious_events(svc: Services, call: OperationCall) -> OperationResult:
    """AdverseEvent/$serious-events."""
    found = svc.store.aggregate(READS, describe(call), lambda: _query(call), _list)[0]
    events = sorted(found, key=lambda e: (e.date, e.vaccine, e.lot, e.site, e.event))
    if call.media == CSV:
        return OperationResult(raw=_csv(events), content_type="text/csv; charset=utf-8",
                               headers={"Content-Disposition":
                                        f'attachment; filename="{NAME}.csv"'})
    return OperationResult({"resourceType": "Parameters", "parameter": [
        {"name": "total", "valueInteger": len(events)}, *(_event(e) for e in events)]})


register(OperationDefinition(
    name=NAME, handler=serious_events, types=("AdverseEvent",), type_level=True,
    methods=("GET", "POST"), formats=(CSV,),
    parameters=(*[p for p in parameters(RATES) if p["name"] not in ("stratify-by", "return")],
                {"name": "total", "use": "out", "min": 1, "max": "1", "type": "integer",
                 "documentation": "How many serious adverse events match"},
                {"name": "event", "use": "out", "min": 0, "max": "*",
                 "documentation": "One serious adverse event, without subject", "part": [
                     {"name": "date", "use": "out", "min": 1, "max": "1", "type": "date",
                      "documentation": "Onset (local date)"},
                     {"name": "reaction", "use": "out", "min": 0, "max": "1", "type": "Coding",
                      "documentation": "vn-post-vaccination-reaction code"},
                     {"name": "vaccine", "use": "out", "min": 0, "max": "1", "type": "Coding",
                      "documentation": "The suspect dose's vaccine"},
                     {"name": "lot", "use": "out", "min": 0, "max": "1", "type": "string",
                      "documentation": "The suspect dose's lot number"},
                     {"name": "site", "use": "out", "min": 0, "max": "1", "type": "Reference",
                      "documentation": "The Location that gave the dose"}]}),
    documentation="Serious post-vaccination adverse events of a period/area/group/vaccine, "
                  "listed without subject (date, reaction, vaccine, lot, site), or CSV"))

"""Search queries use MongoDB indexes (checked with explain() on the real server).

Token, reference and date searches compile to one indexed field; with several parameters the
most selective index hint comes first (SecantusDB walks the first indexed top-level field,
MongoDB's planner picks among them), which the last test checks on the filter itself.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from flask import Flask

from fhir_server.auth.principal import INTERNAL_PRINCIPAL, acting_as
from fhir_server.interactions.context import Services
from fhir_server.storage.query import compile_criteria
from fhir_server.storage.query.plan import match_stages
from tests.api.helpers import created_id, post


@pytest.fixture(scope="module")
def services(make_app: Callable[..., Flask]) -> Services:
    """An app with some patients and immunizations."""
    app = make_app()
    client = app.test_client()
    for i in range(30):
        pid = created_id(post(client, {"resourceType": "Patient", "birthDate": f"19{50 + i}",
                                       "identifier": [{"system": "urn:cccd", "value": str(i)}],
                                       "name": [{"family": f"Name{i}"}]}))
        post(client, {"resourceType": "Immunization", "status": "completed",
                      "vaccineCode": {"coding": [{"system": "urn:cvx", "code": str(i % 3)}]},
                      "patient": {"reference": f"Patient/{pid}"},
                      "occurrenceDateTime": f"2021-01-{1 + i % 28:02d}"})
    svc: Services = app.extensions["fhir"].internal()
    return svc


def plan_of(svc: Services, type_name: str, params: str) -> tuple[dict[str, Any], dict[str, Any]]:
    pairs = [(p.split("=", 1)[0], p.split("=", 1)[1]) for p in params.split("&")]
    with acting_as(INTERNAL_PRINCIPAL):  # outside a request: server-internal work
        query = compile_criteria(type_name, svc.search.criteria_for(type_name, pairs))
    store: Any = svc.store.store
    explained = store.db[type_name].find(query).explain()
    return query, explained["queryPlanner"]["winningPlan"]


def index_scan(plan: dict[str, Any]) -> dict[str, Any] | None:
    while plan:
        if plan.get("stage") == "IXSCAN":
            return plan
        plan = plan.get("inputStage") or {}
    return None


@pytest.mark.parametrize(("type_name", "params", "index"), [
    ("Patient", "identifier=urn:cccd|7", "search_keys"),            # token
    ("Immunization", "vaccine-code=urn:cvx|1", "search_keys"),      # token
    ("Immunization", "patient=Patient/abc", "search_keys"),         # reference
    ("Immunization", "patient.identifier=urn:cccd|7", "search_keys"),  # chain -> reference
    ("Patient", "birthdate=1960", "search_birthdate_lo"),           # date eq (a range within)
    ("Patient", "birthdate=gt1970", "search_birthdate_hi"),         # date one-sided
    ("Patient", "birthdate=le1955-06", "search_birthdate_lo"),
    ("Immunization", "date=sa2021-01-20", "search_date_lo"),
    ("Immunization", "date=eb2021-01-03", "search_date_hi"),
    ("Patient", "_lastUpdated=gt2020-01-01", "ts"),
    ("Patient", "_id=abc", "_id_"),
])
def test_single_parameter_uses_an_index(services: Services, type_name: str, params: str,
                                        index: str) -> None:
    query, _plan = plan_of(services, type_name, params)
    store: Any = services.store.store  # the store runs the lead field alone first (plan.py)
    lead = store.db[type_name].find(match_stages(query)[0]["$match"]).explain()
    scan = index_scan(lead["queryPlanner"]["winningPlan"])
    assert scan is not None, (query, lead)
    assert scan["indexName"] == index


def test_results_match_the_indexed_query(services: Services) -> None:
    query, _plan = plan_of(services, "Patient", "birthdate=gt1970")
    store: Any = services.store.store
    assert store.db["Patient"].count_documents(query) == 9


@pytest.mark.parametrize("params", [
    "patient=Patient/abc&date=gt2020&status=completed",
    "status=completed&vaccine-code=urn:cvx|1&lot-number=x",
    "date=2021-01-05&status=completed",
])
def test_several_parameters_lead_with_an_indexed_field(services: Services, params: str) -> None:
    query, _plan = plan_of(services, "Immunization", params)
    first = next(iter(query))
    assert first == "idx.k" or first.startswith("idx.p.date."), query
    assert "$and" not in query


@pytest.mark.parametrize("params", [
    "patient=Patient/abc&date=gt2020&status=completed",
    "status=completed&vaccine-code=urn:cvx|1&lot-number=x",
    "date=ge2021-01-05&date=lt2021-01-06",
])
def test_several_parameters_run_their_lead_from_an_index(services: Services,
                                                         params: str) -> None:
    """A filter of several fields is a collection scan on SecantusDB (it plans an index for one
    field only): the store runs it as $match stages whose first, the lead alone, is indexed,
    and the whole pipeline finds what the one filter finds."""
    query, _plan = plan_of(services, "Immunization", params)
    stages = match_stages(query)
    assert len(stages) == 2 and {**stages[0]["$match"], **stages[1]["$match"]} == query
    store: Any = services.store.store
    lead = store.db["Immunization"].find(stages[0]["$match"]).explain()
    assert index_scan(lead["queryPlanner"]["winningPlan"]) is not None, lead
    through = [doc["_id"] for doc in store.db["Immunization"].aggregate(stages)]
    assert sorted(through) == sorted(d["_id"] for d in store.db["Immunization"].find(query))

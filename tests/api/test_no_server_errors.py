"""No request may crash the server (http.html#errors: bad input is a 4xx OperationOutcome).

A seeded fuzz over the REST API: every search parameter of every type with hostile values and
modifiers, and the official examples with one element replaced by an odd value, posted, put
and patched. Any 5xx fails, naming the request.
"""

from __future__ import annotations

import copy
import json
import random
from collections.abc import Callable, Iterator
from typing import Any
from urllib.parse import quote

import pytest
from flask import Flask
from flask.testing import FlaskClient

from fhir_server.resource_types import RESOURCE_TYPES
from fhir_server.search.registry import params_for
from fhir_server.spec.package import iter_examples

VALUES = ["", ",", ",,", "|", "a|b|c", "$ne", '{"$ne":1}', "(a+)+$", "9999-12-31T23:59:59.999999Z",
          "0001-01-01T00:00:00+05:00", "ge9999", "lt0001", "eq", "ap2021", "ne2021-13-45",
          "1e309", "-1e309", "NaN", "ge-1", "5||mg", "Patient/", "/", "Patient/x/_history/1",
          "\x00", "é" * 300, "a" * 3000, "2021-01-01T10:00:00+99:99", "gt2021-01-01T25:00", "*",
          "\\", "\\,", "true", "eb1e5", "le1e-400"]
MODIFIERS = ["", ":missing", ":exact", ":contains", ":not", ":text", ":of-type", ":identifier",
             ":Patient", ":below", ":above", ":in", ":bogus", ":iterate"]
RESULT_PARAMS = ["_sort", "_count", "_include", "_revinclude", "_elements", "_summary", "_total",
                 "_has:Immunization:patient:vaccine-code", "patient.identifier", "_lastUpdated"]
ODD = [None, [], {}, "", " ", 0, -1, 1.5e308, True, "x" * 5000, [None], [{}], {"a": None},
       "\x00", 12345678901234567890123, "2021-13-45", {"reference": "Patient/"},
       {"reference": "urn:uuid:x"}, [{"reference": "#"}]]
FHIR_JSON = {"Content-Type": "application/fhir+json"}


@pytest.fixture(scope="module")
def web(make_app: Callable[..., Flask]) -> FlaskClient:
    """A client of an app of its own."""
    return make_app().test_client()


def _failures(responses: Iterator[tuple[str, Any]]) -> list[str]:
    return [f"{answer.status_code} {what}" for what, answer in responses
            if answer.status_code >= 500]


@pytest.mark.parametrize("type_name", RESOURCE_TYPES)
def test_hostile_search_values_never_crash(web: FlaskClient, type_name: str) -> None:
    rng = random.Random(type_name)
    codes = [*params_for(type_name), *RESULT_PARAMS]

    def requests() -> Iterator[tuple[str, Any]]:
        for code in codes:
            for value in rng.sample(VALUES, 4):
                url = f"/{type_name}?{code}{rng.choice(MODIFIERS)}={quote(value)}"
                yield url, web.get(url)

    assert _failures(requests()) == []


def _paths(data: Any, prefix: tuple[Any, ...] = ()) -> Iterator[tuple[Any, ...]]:
    items = data.items() if isinstance(data, dict) else enumerate(data) \
        if isinstance(data, list) else ()
    for key, value in items:
        yield (*prefix, key)
        yield from _paths(value, (*prefix, key))


@pytest.mark.parametrize("type_name", RESOURCE_TYPES)
def test_odd_bodies_never_crash(web: FlaskClient, type_name: str) -> None:
    example = next((found for _, found in iter_examples([type_name])), None)
    if example is None:
        pytest.skip(f"no official example of {type_name}")
    rng = random.Random(type_name)
    paths = [path for path in _paths(example) if path[0] != "resourceType"]
    resource_id = example.get("id", "x")

    def requests() -> Iterator[tuple[str, Any]]:
        for _ in range(15):
            path, odd = rng.choice(paths), rng.choice(ODD)
            changed = copy.deepcopy(example)
            target = changed
            for key in path[:-1]:
                target = target[key]
            target[path[-1]] = odd
            body = json.dumps(changed)
            yield f"POST {path}", web.post(f"/{type_name}", data=body, headers=FHIR_JSON)
            yield f"PUT {path}", web.put(f"/{type_name}/{resource_id}", data=body,
                                         headers=FHIR_JSON)
            patch = [{"op": "replace", "path": "/" + "/".join(map(str, path)), "value": odd}]
            yield f"PATCH {path}", web.patch(
                f"/{type_name}/{resource_id}", data=json.dumps(patch),
                headers={"Content-Type": "application/json-patch+json"})

    assert _failures(requests()) == []


@pytest.mark.parametrize("url", [
    "/_history?_since=%2C", "/_history?_count=-1", "/_history?_at=ge9999",
    "/Patient/_history?_since=9999-12-31T23:59:59.999999Z", "/Patient/%00",
    "/Patient/x/_history/99999999999999999999", "/Patient?_count=99999999999999",
    "/Patient?_sort=-,", "/Patient/x/$everything?_since=9999", "/Patient?_include=*",
    "/Patient?_include:iterate=*", "/?_type=,", "/?_type=%2C%2C", "/Patient?_elements=,",
    "/Patient/x/*", "/Patient/x/Immunization?date=ge9999-12-31"])
def test_odd_history_and_system_requests_never_crash(web: FlaskClient, url: str) -> None:
    assert web.get(url).status_code < 500

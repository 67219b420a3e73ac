"""The official R4 examples are searchable by their own values (round trip).

Every example of our types (up to a cap per type) is stored through the API; then, for each
search parameter an example has a value for, that value - turned back into search syntax -
must find the example (together with its _id, so each query checks one resource).
"""

from __future__ import annotations

import math
from collections.abc import Callable
from datetime import datetime
from typing import Any
from urllib.parse import urlencode

import pytest
from flask import Flask
from flask.testing import FlaskClient

from fhir_server.resource_types import RESOURCE_TYPES
from fhir_server.search.extract import SearchIndexer
from fhir_server.search.normalize import ANY_CODE, OF_TYPE, PARAM_SEP, SEP
from fhir_server.search.registry import indexed_params, lookup
from fhir_server.spec import union_terms
from fhir_server.spec.package import iter_examples
from tests.api.helpers import FHIR_JSON
from tests.api.test_official_examples import KNOWN_INVALID as OFFICIAL_INVALID
from tests.api.test_official_examples import TOO_LARGE
from tests.conftest import BASE_URL

pytestmark = pytest.mark.examples
PER_TYPE = 25
PER_PARAM = 3
KNOWN_INVALID = OFFICIAL_INVALID | TOO_LARGE  # rejected by the server (see that module)


def escape(text: str) -> str:
    """search.html#escaping."""
    for char in ("\\", ",", "$", "|"):
        text = text.replace(char, "\\" + char)
    return text


def token_value(key: str) -> str | None:
    if key.startswith(OF_TYPE) or key.endswith(ANY_CODE):
        return None
    if SEP in key:
        system, code = key.split(SEP, 1)
        return f"{escape(system)}|{escape(code)}"
    return escape(key)


def _number(value: float) -> str | None:
    return None if math.isinf(value) else repr(value)


def search_value(kind: str, code: str, entries: list[Any], keys: list[str]) -> str | None:
    """A search value that must match the first usable stored entry."""
    for entry in entries:
        value = _one(kind, code, entry, keys)
        if value is not None:
            return value
    return None


def _searched_elements(type_name: str) -> set[str]:
    """The top-level elements the type's own (not Resource-level) indexed parameters read."""
    found: set[str] = set()
    for param in indexed_params(type_name):
        if "/Resource-" in param.url or not param.expression:
            continue
        for term in union_terms(param.expression):
            path = term.lstrip("(").split(" ", 1)[0]
            if path.startswith(type_name + "."):
                found.add(path.split(".")[1].split("(")[0].split("[")[0])
    return found


def _contained_reference(value: Any) -> bool:
    """A reference to a contained resource (#id): not indexed (search.html#contained)."""
    return isinstance(value, dict) and str(value.get("reference", "")).startswith("#")


def _component(first: Any) -> str | None:
    """A composite part's search value: a token, a string, a number or a date range start."""
    if not isinstance(first, dict):
        return token_value(first)
    if "v" in first:
        return escape(first["v"])
    low = first["lo"]
    if isinstance(low, datetime):
        return f"ge{low.isoformat()}" if low.year > 1 else None
    number = _number(low)
    return None if number is None else f"ge{number}"


def _one(kind: str, code: str, entry: Any, keys: list[str]) -> str | None:
    if kind == "token":
        return token_value(entry)
    if kind == "string":
        return escape(entry["v"])
    if kind in ("reference", "uri"):
        # not search values: a contained reference (#id), and a bare relative canonical such as
        # Library.relatedArtifact.resource 'library-fhir-helpers-predecessor' (a bare id in a
        # reference search means [type]/id, search.html#reference)
        if kind == "reference" and (entry.startswith("#") or not {"/", ":"} & set(entry)):
            return None
        return escape(entry)
    if kind == "date":
        buckets = [k.split(PARAM_SEP, 1)[1] for k in keys if k.startswith(code + PARAM_SEP)]
        if buckets:
            return max(buckets, key=len)[1:]
        low: datetime = entry["lo"]
        return f"ge{low.isoformat()}" if low.year > 1 else f"le{entry['hi'].isoformat()}"
    if kind == "quantity":
        number = _number(entry["lo"])
        return f"ge{number}" if number else f"le{_number(entry['hi'])}"
    if kind == "composite":
        parts = []
        for position in range(len(entry)):
            part = _component(entry[f"c{position}"][0])
            if part is None:
                return None
            parts.append(part)
        return "$".join(parts)
    return None


@pytest.fixture(scope="module")
def loaded(make_app: Callable[..., Flask]) -> tuple[FlaskClient, list[dict[str, Any]]]:
    """A fresh app holding up to PER_TYPE official examples of each type."""
    client = make_app().test_client()
    stored = []
    for type_name in sorted(RESOURCE_TYPES):
        examples = [(n, r) for n, r in iter_examples([type_name]) if n not in KNOWN_INVALID]
        for _name, example in examples[:PER_TYPE]:
            response = client.put(f"/{type_name}/{example['id']}", json=example,
                                  headers={"Content-Type": FHIR_JSON})
            assert response.status_code in (200, 201), (_name, response.get_json())
            stored.append(response.get_json())
    return client, stored


def test_examples_are_found_by_their_own_values(
        loaded: tuple[FlaskClient, list[dict[str, Any]]]) -> None:
    client, stored = loaded
    indexer = SearchIndexer(BASE_URL)
    tried: dict[tuple[str, str], int] = {}
    failures = []
    for resource in stored:
        type_name = resource["resourceType"]
        document = indexer(resource)
        for code, entries in document.get("p", {}).items():
            param = lookup(type_name, code)
            if param is None or tried.get((type_name, code), 0) >= PER_PARAM:
                continue
            value = search_value(param.kind, code, entries, document.get("k", []))
            if value is None:
                continue
            tried[(type_name, code)] = tried.get((type_name, code), 0) + 1
            query = urlencode([(code, value), ("_id", resource["id"]), ("_total", "accurate")])
            body = client.get(f"/{type_name}?{query}",
                              headers={"Prefer": "handling=strict"}).get_json()
            if body.get("total") != 1:
                failures.append((type_name, resource["id"], code, value, body.get("total",
                                                                                  body)))
    assert not failures, (len(failures), failures[:10])
    print(f"{len(tried)} (type, parameter) pairs checked on {len(stored)} examples")
    covered = {t for t, _c in tried}
    assert len(tried) > 150 and covered >= {"Patient", "Immunization", "Organization",
                                            "Practitioner", "ValueSet", "CodeSystem"}


def test_every_example_has_an_index_document(
        loaded: tuple[FlaskClient, list[dict[str, Any]]]) -> None:
    _client, stored = loaded
    indexer = SearchIndexer(BASE_URL)
    for resource in stored:  # an example holding an element one of its type's own
        type_name = resource["resourceType"]  # parameters reads has an index document
        document = indexer(resource)
        if not (document.get("k") or document.get("t") or document.get("p")):
            present = {name for name in _searched_elements(type_name) & set(resource)
                       if not _contained_reference(resource[name])}
            assert not present, (type_name, resource["id"], present)

"""A data-driven corpus of hostile requests (tests/data/bad_input_corpus.json).

Each entry names the FHIR R4 section it checks (http.html, json.html, datatypes.html,
search.html, bundle.html, references.html) and the exact status and OperationOutcome issue code
the server must answer (http.html#summary: errors are 4xx with an OperationOutcome), never a
5xx, and nothing may change (the system history total stays the same). Entries whose fix
belongs to another developer carry an `xfail_reason` and are xfail(strict=False).
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient

from tests.conftest import DATA

CORPUS: list[dict[str, Any]] = json.loads(
    (DATA / "bad_input_corpus.json").read_text("utf-8"))["entries"]
PATIENT = {"resourceType": "Patient", "id": "corpus-pat", "gender": "female"}


def _expand(text: str) -> str:
    """${c*N} -> c repeated N times (huge ids, deep nesting, long headers)."""
    return re.sub(r"\$\{(.+?)\*(\d+)\}", lambda m: m[1] * int(m[2]), text)


def _params() -> list[Any]:
    params = []
    for entry in CORPUS:
        marks = ([pytest.mark.xfail(reason=entry["xfail_reason"], strict=False)]
                 if "xfail_reason" in entry else [])
        params.append(pytest.param(entry, id=entry["name"], marks=marks))
    return params


@pytest.fixture(scope="module")
def corpus_client(make_app: Callable[..., Flask]) -> FlaskClient:
    """A client of an app on its own database holding Patient/corpus-pat."""
    client = make_app().test_client()
    response = client.put("/Patient/corpus-pat", json=PATIENT,
                          headers={"Content-Type": "application/fhir+json"})
    assert response.status_code in (200, 201), response.get_json()
    return client


def _versions(client: FlaskClient) -> int:
    """Every stored version of every type (creates, updates and deletes all add one)."""
    return int(client.get("/_history?_count=0").get_json()["total"])


def _send(client: FlaskClient, entry: dict[str, Any]) -> Any:
    headers = {key: _expand(value) for key, value in entry.get("headers", {}).items()}
    data: bytes | None = None
    if "raw" in entry:
        data = _expand(entry["raw"]).encode(entry.get("encoding", "utf-8"))
    elif "body" in entry:
        data = _expand(json.dumps(entry["body"])).encode("utf-8")
    if data is not None:
        headers.setdefault("Content-Type", "application/fhir+json")
    return client.open(_expand(entry["path"]), method=entry["method"], data=data,
                       headers=headers)


def test_corpus_is_well_formed() -> None:
    names = [entry["name"] for entry in CORPUS]
    assert len(names) == len(set(names)) and len(names) >= 60
    for entry in CORPUS:
        assert {"method", "path", "status", "code", "spec"} <= set(entry), entry["name"]
        assert entry["status"] < 500, entry["name"]


@pytest.mark.parametrize("entry", _params())
def test_bad_input_answers_exactly_and_changes_nothing(corpus_client: FlaskClient,
                                                       entry: dict[str, Any]) -> None:
    before = _versions(corpus_client)
    response = _send(corpus_client, entry)
    assert response.status_code < 500, (response.status_code, response.get_data()[:500])
    assert response.status_code == entry["status"], (response.status_code,
                                                     response.get_data()[:500])
    if entry["code"] is not None:
        assert response.mimetype == "application/fhir+json"
        outcome = response.get_json()
        assert outcome["resourceType"] == "OperationOutcome"
        codes = [issue["code"] for issue in outcome["issue"]]
        assert entry["code"] in codes, codes
    assert _versions(corpus_client) == before

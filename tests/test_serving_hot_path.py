"""The per-request work made once (issue 17 point 1): FhirFlask's hook sync check, the request
metrics' label series; the answers and counts stay what they were."""

from __future__ import annotations

from typing import Any

import pytest
from flask import Flask

from fhir_server.app import FhirFlask
from fhir_server.metrics import HTTP_REQUESTS, observe_request


def test_ensure_sync_is_asked_once_per_function(monkeypatch: pytest.MonkeyPatch) -> None:
    app = FhirFlask("hot_path")
    asked: list[Any] = []
    original = Flask.ensure_sync

    def counting(self: Flask, func: Any) -> Any:
        asked.append(func)
        return original(self, func)

    monkeypatch.setattr(Flask, "ensure_sync", counting)

    @app.before_request
    def hook() -> None:
        return None

    @app.get("/x")
    def view() -> str:
        return "x"

    client = app.test_client()
    for _ in range(5):
        assert client.get("/x").get_data() == b"x"
    assert asked.count(hook) == 1 and asked.count(view) == 1
    assert app.ensure_sync(view) is view  # a plain function stays itself


def _count(interaction: str, type_name: str, status: str) -> float:
    value = HTTP_REQUESTS.labels(interaction, type_name, status)._value.get()
    return float(value)


def test_request_series_count_as_before() -> None:
    """The same labels as the README's: history-* is `history`, unknown names `other`."""
    before = (_count("history", "Patient", "200"), _count("other", "-", "404"),
              _count("read", "Patient", "200"))
    for _ in range(3):
        observe_request("history-instance", "Patient", 200, 0.01)
        observe_request("history-type", "Patient", 200, 0.01)
        observe_request("no-such-interaction", "-", 404, 0.01)
        observe_request("read", "Patient", 200, 0.01)
    after = (_count("history", "Patient", "200"), _count("other", "-", "404"),
             _count("read", "Patient", "200"))
    assert [b - a for a, b in zip(before, after, strict=True)] == [6, 3, 3]

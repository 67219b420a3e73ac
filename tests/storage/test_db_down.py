"""Issue 12 point 11: with the database down, requests get a fast 503 + Retry-After
(OperationOutcome code transient), /readyz says 503, /healthz stays 200 (process only)."""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from flask import Flask

from fhir_server import create_app
from fhir_server.embedded import EmbeddedStore
from fhir_server.settings import Settings
from fhir_server.storage.connection import disconnect


@pytest.fixture()
def doomed_store(tmp_path: Path) -> Iterator[EmbeddedStore]:
    """A SecantusDB of this test's own, which the test stops."""
    with EmbeddedStore(tmp_path / "data", log_path=tmp_path / "server.log") as store:
        yield store


def _app(store: EmbeddedStore, tmp_path: Path) -> Flask:
    settings = Settings.from_env(
        {}, mongodb_uri=store.uri, database="down", shc_key_dir=str(tmp_path / "keys"),
        auth_key_dir=str(tmp_path / "auth"), auth_required=False, audit="off",
        sms_gateway=f"file:{tmp_path}/sms.jsonl", sms_retry_seconds=0, load_conformance=False)
    return create_app(settings)


def test_database_down_fast_503_and_readyz(doomed_store: EmbeddedStore, tmp_path: Path) -> None:
    """Before: ~10 s of server selection, then 503. Now: 503 well within 5 s, Retry-After set."""
    app = _app(doomed_store, tmp_path)
    client = app.test_client()
    try:
        assert client.get("/readyz").status_code == 200
        assert client.get("/Patient/nobody").status_code == 404
        doomed_store.stop()
        for path in ("/Patient/nobody", "/Patient?name=an", "/readyz"):
            started = time.monotonic()
            response = client.get(path)
            elapsed = time.monotonic() - started
            assert response.status_code == 503, path
            assert response.headers["Retry-After"].isdigit()
            outcome = response.get_json()
            assert outcome["resourceType"] == "OperationOutcome"
            assert outcome["issue"][0]["code"] == "transient"
            assert elapsed < 5, f"{path} took {elapsed:.1f} s"
        assert client.get("/healthz").status_code == 200  # liveness ignores the database
    finally:
        disconnect(doomed_store.uri, "down")


def test_db_timeout_setting() -> None:
    """FHIR_DB_TIMEOUT_MS is read (default 2000 ms) and must be positive."""
    assert Settings.from_env({}).db_timeout_ms == 2000
    assert Settings.from_env({"FHIR_DB_TIMEOUT_MS": "500"}).db_timeout_ms == 500
    with pytest.raises(ValueError, match="FHIR_DB_TIMEOUT_MS"):
        Settings.from_env({"FHIR_DB_TIMEOUT_MS": "0"})


def test_one_shot_commands_wait_longer_for_a_busy_store() -> None:
    """A bulk job's reads are not cancelled by the driver's 2 s monitor check while the store is
    busy with them (pymongo cancels operations in flight when a heartbeat misses)."""
    from fhir_server.settings import BATCH_DB_TIMEOUT_MS, batch_timeout

    assert batch_timeout({}) == BATCH_DB_TIMEOUT_MS == 60_000
    assert batch_timeout({"FHIR_DB_TIMEOUT_MS": "5000"}) == 5000  # the operator's choice wins

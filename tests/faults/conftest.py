"""Fixtures of the fault tests: a SecantusDB of the test's own (to stop, kill and restart) and
an app on it with a 1 s server-selection timeout."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from flask import Flask

from fhir_server import create_app
from fhir_server.embedded import EmbeddedStore
from fhir_server.settings import Settings
from fhir_server.storage.connection import disconnect

DATABASE = "faults"
BASE = "https://fhir.test/fhir"
TIMEOUT_MS = 1000


@pytest.fixture()
def store(tmp_path: Path) -> Iterator[EmbeddedStore]:
    """A SecantusDB of this test's own, which the test stops, kills and restarts."""
    with EmbeddedStore(tmp_path / "data", log_path=tmp_path / "server.log") as server:
        yield server
        server.stop()


@pytest.fixture()
def store_app(store: EmbeddedStore, tmp_path: Path) -> Iterator[Flask]:
    """An app on that store (open access, no audit, 1 s server selection)."""
    settings = Settings.from_env(
        {}, mongodb_uri=store.uri, database=DATABASE, base_url=BASE,
        shc_key_dir=str(tmp_path / "keys"), auth_key_dir=str(tmp_path / "auth"),
        auth_required=False, audit="off", sms_gateway=f"file:{tmp_path}/sms.jsonl",
        sms_retry_seconds=0, load_conformance=False, db_timeout_ms=TIMEOUT_MS,
        export_dir=str(tmp_path / "export"))
    yield create_app(settings)
    disconnect(store.uri, DATABASE)

"""Test fixtures: one real MongoDB-compatible server (SecantusDB, or MONGODB_URI) per run."""

from __future__ import annotations

import os
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from flask import Flask
from flask.testing import FlaskClient
from pymongo import MongoClient

from fhir_server import create_app
from fhir_server.embedded import EmbeddedStore
from fhir_server.settings import Settings


@pytest.fixture(scope="session")
def mongo_uri(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """MONGODB_URI when set (a real MongoDB), else a SecantusDB started for this run."""
    if os.environ.get("MONGODB_URI"):
        yield os.environ["MONGODB_URI"]
        return
    root = tmp_path_factory.mktemp("secantusdb")
    with EmbeddedStore(root / "data", log_path=root / "server.log") as server:
        yield server.uri


@pytest.fixture(scope="session")
def make_app(mongo_uri: str, tmp_path_factory: pytest.TempPathFactory
             ) -> Iterator[Callable[..., Flask]]:
    """Build an app on a fresh database (dropped at the end of the run)."""
    databases: list[str] = []
    key_dir = str(tmp_path_factory.mktemp("issuer-keys"))

    def factory(**overrides: object) -> Flask:
        name = f"test_{uuid.uuid4().hex[:12]}"
        databases.append(name)
        options: dict[str, object] = {
            "base_url": BASE_URL, "shc_key_dir": key_dir, "auth_key_dir": key_dir + "/auth",
            "auth_required": False, "sms_gateway": f"file:{key_dir}/sms-{name}.jsonl",
            "sms_retry_seconds": 0, "load_conformance": False,
            "audit_spool_dir": f"{key_dir}/audit-spool-{name}",  # one spool per app
            # audit only token holders, so open-mode tests see no background AuditEvent writes
            # (tests/rest/test_audit_modes.py covers the default, `all`)
            "audit": "authenticated", **overrides}
        settings = Settings.from_env({}, mongodb_uri=mongo_uri, database=name, **options)
        app = create_app(settings)
        app.config["TESTING"] = True
        return app

    yield factory
    with MongoClient(mongo_uri) as client:
        for name in databases:
            client.drop_database(name)


@pytest.fixture(scope="session")
def app(make_app: Callable[..., Flask]) -> Flask:
    """One app shared by the tests that use unique ids/identifiers."""
    return make_app()


@pytest.fixture()
def client(app: Flask) -> FlaskClient:
    """A test client of the shared app."""
    return app.test_client()


@pytest.fixture()
def fresh_client(make_app: Callable[..., Flask]) -> FlaskClient:
    """A test client of an app on its own empty database."""
    return make_app().test_client()


DATA = Path(__file__).parent / "data"
BASE_URL = "https://fhir.test/fhir"

"""`fhir-server serve --prod`, `indexes` and `init-keys` as an operator runs them (issue 16
point 1): development defaults refuse to start (exit 2, one line each, no traceback); a
production settings file starts gunicorn whose /readyz answers 200."""

from __future__ import annotations

import os
import subprocess
import sys
import time
import uuid
from pathlib import Path
from urllib.parse import parse_qsl, urlencode, urlsplit

import pytest
import requests
from pymongo import MongoClient

from fhir_server.embedded import free_port
from tests.test_cli import _stop as stop

COMMAND = [sys.executable, "-m", "fhir_server.cli"]


def _clean_env(tmp_path: Path) -> dict[str, str]:
    """The environment of a fresh shell: no FHIR_* nor MONGODB_URI of the test run."""
    keep = {k: v for k, v in os.environ.items()
            if not k.startswith(("FHIR_", "MONGODB_", "PROMETHEUS_"))}
    return {**keep, "HOME": str(tmp_path)}


def test_development_defaults_refused(tmp_path: Path) -> None:
    done = subprocess.run([*COMMAND, "serve", "--prod", "--seed"], env=_clean_env(tmp_path),
                          capture_output=True, text=True, timeout=120)
    assert done.returncode == 2
    lines = done.stderr.strip().splitlines()
    assert "Traceback" not in done.stderr and done.stdout == ""
    assert all(line.startswith("fhir-server serve --prod: ") for line in lines)
    for expected in ("--seed loads the demo data", "MONGODB_URI is not set",
                     "FHIR_BASE_URL is not set", "FHIR_CORS_ORIGINS is '*'",
                     "FHIR_SMS_GATEWAY=(unset: file)", "FHIR_AUTH_KEY_DIR is not set"):
        assert sum(expected in line for line in lines) == 1, (expected, lines)
    assert lines[-1].endswith("refused to start (8 problems; see docs/deploy.md)")


def test_bad_settings_file_is_one_line(tmp_path: Path) -> None:
    path = tmp_path / "fhir.env"
    path.write_text("FHIR_AUTH_REQIURED=1\n")
    done = subprocess.run([*COMMAND, "serve", "--prod", "--settings", str(path)],
                          env=_clean_env(tmp_path), capture_output=True, text=True, timeout=60)
    assert done.returncode == 2
    assert done.stderr.strip() == (f"fhir-server: {path}:1: unknown setting FHIR_AUTH_REQIURED "
                                   "(did you mean FHIR_AUTH_REQUIRED?)")


def production_uri(mongo_uri: str) -> str:
    """The test server's URI as production writes it: the replica set named, majority."""
    with MongoClient(mongo_uri) as client:
        set_name = client.admin.command("hello").get("setName")
    if not set_name:
        pytest.skip("the test database is a standalone server")
    parts = urlsplit(mongo_uri)
    options = {k: v for k, v in parse_qsl(parts.query) if k.lower() != "directconnection"}
    options.update(replicaSet=set_name, w="majority", journal="true", retryWrites="true")
    return parts._replace(path="/", query=urlencode(options)).geturl()


def _write_settings(tmp_path: Path, mongo_uri: str, database: str, port: int) -> Path:
    home = tmp_path / "home"
    path = tmp_path / "fhir.env"
    path.write_text("\n".join([
        "# a production server (docs/deploy.md)", f"MONGODB_URI={production_uri(mongo_uri)}",
        f"FHIR_DATABASE={database}", f"FHIR_HOME={home}",
        "FHIR_BASE_URL=https://fhir.example.vn", f"FHIR_AUTH_KEY_DIR={home}/auth-keys",
        f"FHIR_SERVER_SHC_KEY_DIR={home}/keys",
        "FHIR_SMS_GATEWAY=http:https://sms.example.vn/send", "FHIR_SMS_API_KEY='key'",
        "FHIR_CORS_ORIGINS=https://app.example.vn", f"FHIR_BIND=127.0.0.1:{port}",
        "FHIR_WORKERS=1", "FHIR_THREADS=2", "FHIR_LOAD_CONFORMANCE=0", "FHIR_LOG_FORMAT=json",
        ""]))
    path.chmod(0o600)
    return path


def test_production_starts_and_is_ready(mongo_uri: str, tmp_path: Path) -> None:
    database, port = f"prod_{uuid.uuid4().hex[:8]}", free_port()
    settings, env = _write_settings(tmp_path, mongo_uri, database, port), _clean_env(tmp_path)
    settings_args = ["--settings", str(settings)]
    refused = subprocess.run([*COMMAND, *settings_args, "serve", "--prod"], env=env,
                             capture_output=True, text=True, timeout=120)
    assert refused.returncode == 2 and "FHIR_AUTH_KEY_DIR=" in refused.stderr
    assert "run `fhir-server init-keys`" in refused.stderr
    for command in ("init-keys", "indexes"):
        done = subprocess.run([*COMMAND, command, *settings_args], env=env,
                              capture_output=True, text=True, timeout=300)
        assert done.returncode == 0, done.stderr
    assert " indexes on " in done.stdout
    log = tmp_path / "serve.log"
    process = subprocess.Popen([*COMMAND, "serve", "--prod", *settings_args], env=env,
                               stdout=log.open("ab"), stderr=subprocess.STDOUT,
                               start_new_session=True)
    try:
        deadline = time.monotonic() + 120
        while True:
            assert process.poll() is None, log.read_text()
            try:
                ready = requests.get(f"http://127.0.0.1:{port}/readyz", timeout=5)
                if ready.status_code == 200:
                    break
            except requests.RequestException:
                pass
            assert time.monotonic() < deadline, log.read_text()
            time.sleep(0.5)
        assert ready.json() == {"status": "ok", "database": "ok", "keys": "ok", "indexes": "ok"}
        metadata = requests.get(f"http://127.0.0.1:{port}/metadata", timeout=30).json()
        assert metadata["implementation"]["url"] == "https://fhir.example.vn"
        assert requests.get(f"http://127.0.0.1:{port}/Patient", timeout=10).status_code == 401
    finally:
        try:
            stop(process)  # SIGINT, then SIGKILL of its group after 30 s
        finally:
            with MongoClient(mongo_uri) as client:
                client.drop_database(database)
    assert "FHIR server (production): https://fhir.example.vn" in log.read_text()

"""The checks of `fhir-server serve --prod` (issue 16 point 1): every development default is
refused with one line naming the setting; a production environment passes. MongoDB write
concern, read preference and retryable writes: docs/deploy.md (MongoDB manual,
reference/connection-string-options)."""

from __future__ import annotations

import argparse
import os
import uuid
from pathlib import Path
from typing import Any

import pytest
from pymongo import MongoClient

from fhir_server.production import (
    database_problems,
    flag_problems,
    gunicorn_options,
    settings_problems,
    uri_problems,
)
from fhir_server.production_keys import init_keys, key_problems
from fhir_server.settings import Settings

URI = "mongodb://db1,db2,db3/?replicaSet=rs0&w=majority&retryWrites=true"


def production_env(tmp_path: Path) -> dict[str, str]:
    """A complete production environment whose keys exist (init_keys)."""
    env = {"MONGODB_URI": URI, "FHIR_HOME": str(tmp_path), "FHIR_BASE_URL":
           "https://fhir.example.vn", "FHIR_AUTH_KEY_DIR": str(tmp_path / "auth-keys"),
           "FHIR_SERVER_SHC_KEY_DIR": str(tmp_path / "keys"),
           "FHIR_SMS_GATEWAY": "http:https://sms.example.vn/send", "FHIR_SMS_API_KEY": "k",
           "FHIR_CORS_ORIGINS": "https://app.example.vn,https://admin.example.vn"}
    init_keys(Settings.from_env(env))
    return env


def test_production_environment_passes(tmp_path: Path) -> None:
    env = production_env(tmp_path)
    assert settings_problems(env) == []
    assert settings_problems({**env, "FHIR_ENV": "production"}) == []


def test_development_defaults_are_each_named(tmp_path: Path) -> None:
    problems = settings_problems({})  # `make run`: nothing set
    for setting in ("MONGODB_URI is not set", "FHIR_HOME is not set",
                    "FHIR_BASE_URL is not set", "FHIR_SMS_GATEWAY=(unset: file)",
                    "FHIR_CORS_ORIGINS is '*'", "FHIR_AUTH_KEY_DIR is not set",
                    "FHIR_SERVER_SHC_KEY_DIR is not set"):
        assert sum(line.startswith(setting) for line in problems) == 1, (setting, problems)
    assert len(problems) == 7
    assert all("\n" not in line for line in problems)


@pytest.mark.parametrize(("change", "expected"), [
    ({"FHIR_BASE_URL": "http://fhir.example.vn"}, "FHIR_BASE_URL='http://fhir.example.vn' "
                                                  "is not https"),
    ({"FHIR_BASE_URL": "https://localhost:8443"}, "is a loopback address"),
    ({"FHIR_SERVER_SHC_ISSUER": "http://cards.example.vn"}, "FHIR_SERVER_SHC_ISSUER="),
    ({"FHIR_AUTH_REQUIRED": "0"}, "FHIR_AUTH_REQUIRED=0 turns authorization off"),
    ({"FHIR_AUDIT": "off"}, "FHIR_AUDIT=off"),
    ({"FHIR_AUDIT": "authenticated"}, "FHIR_AUDIT=authenticated"),
    ({"FHIR_USE_TRANSACTIONS": "0"}, "FHIR_USE_TRANSACTIONS=0"),
    ({"FHIR_UNIQUE_IDENTIFIERS": "false"}, "FHIR_UNIQUE_IDENTIFIERS=0"),
    ({"FHIR_IDENTIFIER_RULES": "no"}, "FHIR_IDENTIFIER_RULES=0"),
    ({"FHIR_SMS_GATEWAY": "console"}, "FHIR_SMS_GATEWAY=console"),
    ({"FHIR_SMS_GATEWAY": "file:/tmp/sms.jsonl"}, "FHIR_SMS_GATEWAY=file:"),
    ({"FHIR_SMS_GATEWAY": "http:http://sms.example.vn"}, "codes must not cross the network"),
    ({"FHIR_SMS_API_KEY": ""}, "FHIR_SMS_API_KEY is not set"),
    ({"FHIR_SMS_RETRY_SECONDS": "0"}, "FHIR_SMS_RETRY_SECONDS=0"),
    ({"FHIR_CORS_ORIGINS": "*"}, "FHIR_CORS_ORIGINS is '*'"),
    ({"FHIR_CORS_ORIGINS": "https://a.vn,http://b.vn"}, "FHIR_CORS_ORIGINS has 'http://b.vn'"),
    ({"FHIR_METRICS": "token"}, "FHIR_METRICS_TOKEN is not set"),
    ({"FHIR_METRICS": "everyone"}, "FHIR_METRICS='everyone'"),
    ({"FHIR_ENV": "development"}, "FHIR_ENV=development"),
    ({"FHIR_AUDIT": "loud"}, "FHIR_AUDIT must be one of"),
])
def test_each_unsafe_setting_is_refused(tmp_path: Path, change: dict[str, str],
                                        expected: str) -> None:
    problems = settings_problems({**production_env(tmp_path), **change})
    assert len(problems) == 1 and expected in problems[0], problems


@pytest.mark.parametrize(("uri", "expected"), [
    ("mongodb://db1,db2/?replicaSet=rs0", "w=(unset)"),
    ("mongodb://db1,db2/?replicaSet=rs0&w=1", "w=1"),
    (URI + "&journal=false", "journal=false"),
    (URI + "&readPreference=secondaryPreferred", "readPreference=secondarypreferred"),
    (URI + "&retryWrites=false", "retrywrites=false"),
    (URI + "&retryReads=false", "retryreads=false"),
    ("mongodb://db1/?w=majority&directConnection=true", "directConnection=true"),
    ("db1:27017", "must start with mongodb://"),
])
def test_connection_string_options(uri: str, expected: str) -> None:
    problems = uri_problems(uri)
    assert len(problems) == 1 and expected in problems[0], problems


def test_srv_and_majority_pass() -> None:
    assert uri_problems("mongodb+srv://cluster.example.vn/?w=majority&readPreference=primary"
                        ) == []


def test_keys_missing_incomplete_or_loose(tmp_path: Path) -> None:
    env = production_env(tmp_path)
    settings = Settings.from_env(env)
    assert key_problems(env, settings) == []
    (tmp_path / "keys" / "rid.secret").unlink()
    (tmp_path / "auth-keys" / "otp-secret").chmod(0o644)
    problems = key_problems(env, settings)
    assert len(problems) == 2
    assert "rid.secret is missing" in problems[0] or "rid.secret is missing" in problems[1]
    assert any("otp-secret" in p and "chmod 600" in p for p in problems)
    assert init_keys(settings) == [str(tmp_path / "keys" / "rid.secret")]  # never replaces
    gone = {**env, "FHIR_AUTH_KEY_DIR": str(tmp_path / "nowhere")}
    assert "does not exist: run `fhir-server init-keys`" in key_problems(
        gone, Settings.from_env(gone))[0]


def test_revocation_lists_must_be_writable(tmp_path: Path,
                                           monkeypatch: pytest.MonkeyPatch) -> None:
    env = production_env(tmp_path)
    crl = tmp_path / "keys" / "crl"
    monkeypatch.setattr(os, "access", lambda path, mode: Path(path) != crl)  # a read-only mount
    assert key_problems(env, Settings.from_env(env)) == [
        f"FHIR_SERVER_SHC_KEY_DIR: {crl} is not writable: revoking a dose writes its key's "
        "revocation list there (a shared, writable volume)"]


def test_settings_file_readable_by_others(tmp_path: Path) -> None:
    path = tmp_path / "fhir.env"
    path.write_text("FHIR_AUDIT=all\n")
    path.chmod(0o640)
    problems = settings_problems({**production_env(tmp_path), "FHIR_SETTINGS_FILE": str(path)})
    assert problems == [f"the settings file {path} may be read by other users: chmod 600 it "
                        "(it holds secrets)"]


def test_command_line_flags_of_development() -> None:
    args = argparse.Namespace(seed=True, data_dir=Path("var/mongo"), host=None, port=9000,
                              workers=None, threads=None, prod=True)
    problems = flag_problems(args)
    assert [p.split(" ")[0] for p in problems] == ["--seed", "--data-dir", "--port:"]


def test_gunicorn_options_from_the_environment() -> None:
    options, problems = gunicorn_options({"FHIR_BIND": "10.0.0.5:8080", "FHIR_WORKERS": "4",
                                          "FHIR_THREADS": "16", "FHIR_PROXY_PROTOCOL": "v1"})
    assert problems == []
    assert (options["bind"], options["workers"], options["threads"]) == ("10.0.0.5:8080", 4, 16)
    assert options["proxy_protocol"] == "v1" and options["proxy_allow_ips"] == "127.0.0.1,::1"
    assert gunicorn_options({"FHIR_WORKERS": "two"})[1] == [
        "FHIR_WORKERS='two': a whole number of at least 1"]


def _settings(mongo_uri: str, database: str) -> Settings:
    return Settings.from_env({}, mongodb_uri=mongo_uri, database=database)


def test_database_checks(mongo_uri: str) -> None:
    database = f"prod_{uuid.uuid4().hex[:8]}"
    client: MongoClient[dict[str, Any]] = MongoClient(mongo_uri)
    try:
        problems = database_problems(_settings(mongo_uri, database), ("Patient",))
        assert len(problems) == 1 and "indexes are missing" in problems[0]
        assert "run `fhir-server indexes`" in problems[0]
        client[database]["_accounts"].insert_one({"_id": "x", "phone": "+84900000001"})
        client[database]["Patient"].insert_one({"_id": "demo-tran-thi-lan", "vid": 1})
        problems = database_problems(_settings(mongo_uri, database), ("Patient",))
        assert "demo accounts (+84900000001)" in problems[0]
        assert "demo Patients (demo-tran-thi-lan)" in problems[1]
    finally:
        client.drop_database(database)
        client.close()


def test_unreachable_database_is_one_line() -> None:
    settings = Settings.from_env({}, mongodb_uri="mongodb://127.0.0.1:9/?w=majority",
                                 database="x", db_timeout_ms=200)
    problems = database_problems(settings, ("Patient",))
    assert len(problems) == 1 and problems[0].startswith("MONGODB_URI: the database did not "
                                                         "answer (ServerSelectionTimeoutError")

"""`fhir-server client register|list|remove` against a real database: public and
confidential SMART apps and Backend Services clients, and the refusals."""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from jwcrypto import jwk
from pymongo import MongoClient

from fhir_server.cli import main


@pytest.fixture()
def database(mongo_uri: str, monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Iterator[str]:
    """A fresh database for the command, dropped afterwards."""
    name = f"cli_{uuid.uuid4().hex[:8]}"
    monkeypatch.setenv("MONGODB_URI", mongo_uri)
    monkeypatch.setenv("FHIR_DATABASE", name)
    monkeypatch.setenv("FHIR_LOAD_CONFORMANCE", "0")
    monkeypatch.setenv("FHIR_HOME", str(tmp_path / "home"))
    yield name
    with MongoClient(mongo_uri) as client:
        client.drop_database(name)


def test_register_list_remove(database: str, tmp_path: Path,
                              capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["client", "register", "sskd-app", "--public", "--redirect-uri",
                 "vn.gov.sskd:/cb", "--scope", "launch/patient patient/*.rs offline_access",
                 "--name", "Sổ sức khỏe"]) == 0
    assert main(["client", "register", "clinic", "--confidential", "--redirect-uri",
                 "https://clinic.example.vn/cb", "--redirect-uri", "http://127.0.0.1:9/cb",
                 "--scope", "launch/patient patient/*.read"]) == 0
    out = capsys.readouterr().out
    assert "public app sskd-app registered" in out
    assert "client secret (shown once, keep it safe): " in out
    key = jwk.JWK.generate(kty="EC", crv="P-256")
    jwks = tmp_path / "jwks.json"
    jwks.write_text(json.dumps({"keys": [json.loads(key.export_public())]}))
    assert main(["client", "register", "hospital", "--jwks", str(jwks),
                 "--scope", "system/*.read"]) == 0
    capsys.readouterr()
    assert main(["client", "list"]) == 0
    rows = [line.split("\t") for line in capsys.readouterr().out.splitlines()]
    assert [(r[0], r[1]) for r in rows] == [("clinic", "confidential"), ("sskd-app", "public"),
                                            ("hospital", "backend")]
    assert rows[0][3] == "https://clinic.example.vn/cb http://127.0.0.1:9/cb"
    assert main(["client", "remove", "sskd-app"]) == 0
    assert main(["client", "remove", "hospital"]) == 0
    assert main(["client", "remove", "hospital"]) == 1
    capsys.readouterr()
    assert main(["client", "list"]) == 0
    assert [line.split("\t")[0] for line in capsys.readouterr().out.splitlines()] == ["clinic"]


@pytest.mark.parametrize("arguments", [
    ["--public", "--redirect-uri", "http://app.example.vn/cb", "--scope", "patient/*.rs"],
    ["--public", "--scope", "patient/*.rs"],
    ["--public", "--redirect-uri", "https://a.example/cb", "--scope", "user/*.read"],
    ["--public", "--redirect-uri", "https://a.example/cb", "--scope", "openid fhirUser"],
    ["--public", "--redirect-uri", "https://a.example/cb", "--scope", "launch/patient"],
])
def test_register_refusals(database: str, arguments: list[str],
                           capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["client", "register", "bad-app", *arguments]) == 1
    assert "error:" in capsys.readouterr().err
    assert main(["client", "list"]) == 0
    assert capsys.readouterr().out == ""


def test_an_id_is_registered_once(database: str, capsys: pytest.CaptureFixture[str]) -> None:
    args = ["client", "register", "twice", "--public", "--redirect-uri", "https://a.example/cb",
            "--scope", "patient/*.rs"]
    assert main(args) == 0
    assert main(args) == 1
    assert "registered already" in capsys.readouterr().err

"""`fhir-server import`: NDJSON (Bulk Data IG "ndjson" output format, one resource per line) and
Bundle files (FHIR R4 http.html#transaction), resumable, with an error file of bad lines."""

from __future__ import annotations

import json
import shutil
import uuid
from collections import Counter
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from pymongo import MongoClient
from pymongo.database import Database

from fhir_server.bulk import import_lines
from fhir_server.cli import main
from tests.api.test_transaction_synthea import FULL, SUBSET, requires_synthea


@pytest.fixture()
def db(mongo_uri: str, monkeypatch: pytest.MonkeyPatch) -> Iterator[Database[Any]]:
    """A fresh database the CLI imports into (MONGODB_URI / FHIR_DATABASE)."""
    name = f"import_{uuid.uuid4().hex[:8]}"
    monkeypatch.setenv("MONGODB_URI", mongo_uri)
    monkeypatch.setenv("FHIR_DATABASE", name)
    client: MongoClient[dict[str, Any]]
    with MongoClient(mongo_uri) as client:
        yield client[name]
        client.drop_database(name)


def _write(path: Path, lines: list[Any]) -> Path:
    path.write_text("".join((line if isinstance(line, str) else json.dumps(line)) + "\n"
                            for line in lines), "utf-8")
    return path


def _patient(number: int, **extra: Any) -> dict[str, Any]:
    return {"resourceType": "Patient", "name": [{"family": "Trần", "given": [f"Bình{number}"]}],
            "gender": "male", **extra}


def _shot(patient_id: str) -> dict[str, Any]:
    return {"resourceType": "Immunization", "status": "completed",
            "vaccineCode": {"text": "COVID-19"}, "patient": {"reference": f"Patient/{patient_id}"},
            "occurrenceDateTime": "2021-08-01"}


def _run(source: Path, tmp_path: Path, *options: str) -> int:
    return main(["import", str(source), "--checkpoint", str(tmp_path / "ckpt.json"),
                 "--errors", str(tmp_path / "errors.txt"), *options])


# Bulk Data IG (ndjson): one resource per line; resources with ids keep them (upsert); bad lines
# go to the error file with their line numbers and do not stop the import
def test_ndjson_with_bad_lines(db: Database[Any], tmp_path: Path) -> None:
    data = tmp_path / "in"
    data.mkdir()
    _write(data / "Patient.ndjson", [_patient(n, id=f"p{n}") for n in range(3)])
    _write(data / "Immunization.ndjson", [
        _shot("p0"), "{not json", _shot("p1"), {**_shot("p2"), "status": "robot"},
        {"resourceType": "MedicinalProduct"}, _shot("p2")])  # an R4 type not stored
    assert _run(data, tmp_path, "--no-progress") == 1
    assert db["Patient"].count_documents({}) == 3
    assert sorted(d["_id"] for d in db["Patient"].find()) == ["p0", "p1", "p2"]
    assert db["Immunization"].count_documents({}) == 3
    errors = (tmp_path / "errors.txt").read_text("utf-8").splitlines()
    where = [line.split(": ", 1)[0] for line in errors]
    shots = data / "Immunization.ndjson"
    assert where == [f"{shots}:2", f"{shots}:4", f"{shots}:5"]
    assert "Malformed JSON" in errors[0]
    assert "Immunization.status" in errors[1]
    assert "not supported" in errors[2]


# resumable: an interrupted import continues after the last committed chunk, without duplicates
def test_resume_after_interruption(db: Database[Any], tmp_path: Path,
                                   monkeypatch: pytest.MonkeyPatch) -> None:
    source = _write(tmp_path / "people.ndjson", [_patient(n) for n in range(7)])  # no ids
    real = import_lines.LineWriter.write
    calls = []

    def interrupted(self: Any, items: list[tuple[int, Any]]) -> Any:
        calls.append(len(items))
        if len(calls) == 3:
            raise KeyboardInterrupt
        return real(self, items)

    monkeypatch.setattr(import_lines.LineWriter, "write", interrupted)
    with pytest.raises(KeyboardInterrupt):
        _run(source, tmp_path, "--chunk-size", "2", "--no-progress")
    assert db["Patient"].count_documents({}) == 4
    assert json.loads((tmp_path / "ckpt.json").read_text())["files"] == {
        "people.ndjson": {"line": 4}}
    monkeypatch.setattr(import_lines.LineWriter, "write", real)
    assert _run(source, tmp_path, "--chunk-size", "2", "--no-progress") == 0
    assert db["Patient"].count_documents({}) == 7
    assert _run(source, tmp_path, "--no-progress") == 0  # all done: nothing again
    assert db["Patient"].count_documents({}) == 7


# --dedupe on NDJSON: a second Organization with the same identifier is not stored; references
# to its id are redirected to the first one
def test_ndjson_dedupe_aliases(db: Database[Any], tmp_path: Path) -> None:
    ident = [{"system": "urn:test:org", "value": "BV-01"}]
    source = tmp_path / "in"
    source.mkdir()
    _write(source / "Organization.ndjson", [
        {"resourceType": "Organization", "id": "o1", "name": "A", "identifier": ident},
        {"resourceType": "Organization", "id": "o2", "name": "A", "identifier": ident}])
    _write(source / "Patient.ndjson",
           [_patient(1, id="p1", managingOrganization={"reference": "Organization/o2"})])
    assert _run(source, tmp_path, "--dedupe", "--no-progress") == 0
    assert [d["_id"] for d in db["Organization"].find()] == ["o1"]
    stored = db["Patient"].find_one({"_id": "p1"})
    assert stored is not None
    assert stored["res"]["managingOrganization"]["reference"] == "Organization/o1"


# http.html#transaction + http.html#ccreate: a directory of Synthea bundles, with --dedupe
@requires_synthea
def test_synthea_bundles_with_dedupe(db: Database[Any], tmp_path: Path,
                                     capsys: pytest.CaptureFixture[str]) -> None:
    assert _run(SUBSET, tmp_path, "--dedupe") == 0
    assert db["Patient"].count_documents({}) == 58
    assert db["Immunization"].count_documents({}) == 492
    organizations = db["Organization"].count_documents({})
    assert organizations < 76
    identifiers = {d["res"]["identifier"][0]["value"] for d in db["Organization"].find()}
    assert len(identifiers) == organizations
    out = capsys.readouterr()
    assert "resources/s" in out.out and "import" in out.err  # summary and progress bar
    assert _run(SUBSET, tmp_path, "--dedupe") == 0  # resumed: everything was done
    assert db["Patient"].count_documents({}) == 58


# full Synthea bundles (Encounter, Observation, Claim...): every type they hold is stored, so each
# loads whole (http.html#transaction)
@requires_synthea
def test_full_bundles(db: Database[Any], tmp_path: Path) -> None:
    source = tmp_path / "full"
    source.mkdir()
    names = sorted(p.name for p in FULL.glob("*.json"))[:3]
    for name in names:
        shutil.copy(FULL / name, source / name)
    assert _run(source, tmp_path, "--no-progress") == 0  # every type they hold is stored
    errors = tmp_path / "errors.txt"
    assert not errors.exists() or errors.read_text("utf-8").strip() == ""
    expected = Counter(e["resource"]["resourceType"] for name in names
                       for e in json.loads((FULL / name).read_bytes())["entry"])
    for type_name in ("Patient", "Immunization", "Observation", "Encounter", "Claim"):
        assert db[type_name].count_documents({}) == expected[type_name], type_name
    assert db["Patient"].count_documents({}) == 3


# JSON files: a Bundle, a single resource, or garbage (reported, the import goes on)
def test_json_files(db: Database[Any], tmp_path: Path) -> None:
    source = tmp_path / "in"
    source.mkdir()
    (source / "broken.json").write_text("{", "utf-8")
    (source / "one.json").write_text(json.dumps(_patient(1, id="single")), "utf-8")
    batch = {"resourceType": "Bundle", "type": "batch", "entry": [
        {"request": {"method": "PUT", "url": "Patient/from-batch"},
         "resource": _patient(2, id="from-batch")},
        {"request": {"method": "GET", "url": "Patient/nobody"}}]}
    (source / "two.json").write_text(json.dumps(batch), "utf-8")
    assert _run(source, tmp_path, "--no-progress") == 1
    assert sorted(d["_id"] for d in db["Patient"].find()) == ["from-batch", "single"]
    errors = (tmp_path / "errors.txt").read_text("utf-8").splitlines()
    assert [line.split(":", 2)[1] for line in errors] == ["1", "1"]
    assert "broken.json" in errors[0] and "404" in errors[1]

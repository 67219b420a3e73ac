"""Bulk Data export (Bulk Data Access IG v2, export.html): kick-off, status polling, manifest,
NDJSON files, _type/_since, Patient- and Group-level scope, cancellation, authorization."""

from __future__ import annotations

import json
import threading
import time
import uuid
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient

from fhir_server.bulk import export_run
from fhir_server.resource_types import is_supported
from tests.api.helpers import created_id, patient, post
from tests.api.test_transaction import immunization

ASYNC = {"Prefer": "respond-async", "Accept": "application/fhir+json"}
BASE = "https://fhir.test/fhir"


@pytest.fixture()
def app_(make_app: Callable[..., Flask], tmp_path: Path) -> Flask:
    """An app on an empty database with its own export directory."""
    return make_app(export_dir=str(tmp_path / "export"))


@pytest.fixture()
def http(app_: Flask) -> FlaskClient:
    """A test client of that app."""
    return app_.test_client()


def _local(url: str) -> str:
    assert url.startswith(BASE + "/"), url
    return url[len(BASE):]


def kick_off(client: FlaskClient, path: str = "/$export", **headers: str) -> str:
    """Start an export; the status URL (path)."""
    response = client.get(path, headers={**ASYNC, **headers})
    assert response.status_code == 202, response.get_json()
    return _local(response.headers["Content-Location"])


def wait(client: FlaskClient, status_url: str, timeout: float = 30) -> Any:
    """Poll the status URL until the export is done; the final response."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        response = client.get(status_url, headers={"Accept": "application/json"})
        if response.status_code != 202:
            return response
        assert response.headers["Retry-After"] and response.headers["X-Progress"]
        time.sleep(0.05)
    raise AssertionError("export did not finish")


def files(client: FlaskClient, manifest: dict[str, Any]) -> dict[str, list[dict[str, Any]]]:
    """type -> resources of the manifest's output files."""
    out: dict[str, list[dict[str, Any]]] = {}
    for item in manifest["output"]:
        response = client.get(_local(item["url"]))
        assert response.status_code == 200
        assert response.mimetype == "application/fhir+ndjson"
        lines = [json.loads(line) for line in response.data.decode().splitlines()]
        assert len(lines) == item["count"]
        assert all(r["resourceType"] == item["type"] for r in lines)
        out.setdefault(item["type"], []).extend(lines)
    return out


def _data(client: FlaskClient) -> tuple[list[str], str]:
    people = [created_id(post(client, patient())) for _ in range(3)]
    for pid in people:
        post(client, immunization(f"Patient/{pid}"))
    org = created_id(post(client, {"resourceType": "Organization", "name": "CDC Hà Nội"}))
    return people, org


# export.html: kick-off 202 + Content-Location; status 202 with X-Progress/Retry-After, then 200
# with Expires and the manifest {transactionTime, request, requiresAccessToken, output, error}
def test_system_export(http: FlaskClient) -> None:
    people, org = _data(http)
    done = wait(http, kick_off(http))
    assert done.status_code == 200
    assert done.mimetype == "application/json"
    assert "GMT" in done.headers["Expires"]
    manifest = done.get_json()
    assert manifest["request"] == f"{BASE}/$export"
    assert manifest["requiresAccessToken"] is False  # this test app runs without auth
    assert manifest["error"] == [] and manifest["transactionTime"]
    exported = files(http, manifest)
    assert sorted(r["id"] for r in exported["Patient"]) == sorted(people)
    assert [r["id"] for r in exported["Organization"]] == [org]
    assert len(exported["Immunization"]) == 3


# export.html (_type, _since): only the listed types; only resources changed after _since
def test_type_and_since(http: FlaskClient) -> None:
    _data(http)
    time.sleep(0.05)
    cutoff = datetime.now(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")
    time.sleep(0.05)
    late = created_id(post(http, patient()))
    manifest = wait(http, kick_off(http, f"/$export?_type=Patient&_since={cutoff}")).get_json()
    assert [item["type"] for item in manifest["output"]] == ["Patient"]
    assert [r["id"] for r in files(http, manifest)["Patient"]] == [late]


# export.html (_type): an unsupported type is an error, unless Prefer: handling=lenient (then
# it is reported in the manifest's error files)
def test_unsupported_type(http: FlaskClient) -> None:
    refused = http.get("/$export?_type=MedicinalProduct", headers=ASYNC)  # R4, not stored
    assert refused.status_code == 400
    assert refused.get_json()["issue"][0]["expression"] == ["_type"]
    status = kick_off(http, "/$export?_type=MedicinalProduct,Patient",
                      Prefer="respond-async, handling=lenient")
    manifest = wait(http, status).get_json()
    assert [item["type"] for item in manifest["error"]] == ["OperationOutcome"]
    outcome = json.loads(http.get(_local(manifest["error"][0]["url"])).data.splitlines()[0])
    assert "MedicinalProduct" in outcome["issue"][0]["diagnostics"]
    assert http.get("/$export?_elements=id", headers=ASYNC).status_code == 400


# export.html (Patient/$export): Patients and their compartments, not other resources
def test_patient_level_export(http: FlaskClient) -> None:
    people, _org = _data(http)
    manifest = wait(http, kick_off(http, "/Patient/$export")).get_json()
    exported = files(http, manifest)
    assert set(exported) == {"Patient", "Immunization"}
    assert {r["patient"]["reference"] for r in exported["Immunization"]} == {
        f"Patient/{p}" for p in people}
    assert http.get("/Patient/$export?_type=Organization", headers=ASYNC).status_code == 400


# export.html (Bulk Data Delete Request): DELETE on the status URL -> 202, then 404
def test_cancel(http: FlaskClient, monkeypatch: pytest.MonkeyPatch) -> None:
    _data(http)
    release = threading.Event()
    real = export_run.TypeFiles.write

    def slow(self: Any, resource: dict[str, Any]) -> None:
        release.wait(10)
        real(self, resource)

    monkeypatch.setattr(export_run.TypeFiles, "write", slow)
    status = kick_off(http)
    assert http.get(status).status_code == 202
    assert http.get("/metadata").status_code == 200  # requests are served meanwhile
    assert http.delete(status).status_code == 202
    release.set()
    assert http.get(status).status_code == 404
    assert http.delete(status).status_code == 404


# export.html (transactionTime): the export holds the state as of its transactionTime
def test_state_as_of_transaction_time(app_: Flask, http: FlaskClient) -> None:
    from fhir_server.bulk.export_scope import ExportScope

    svc = app_.extensions["fhir"].internal()
    the_id = created_id(post(http, patient(gender="male")))
    moment = svc.settings.clock()
    time.sleep(0.01)
    http.put(f"/Patient/{the_id}", json={**patient(gender="female"), "id": the_id})
    scope = ExportScope(svc, "system", moment)
    (old,) = list(scope.resources("Patient"))
    assert old["gender"] == "male" and old["meta"]["versionId"] == "1"


# export.html (Group/[id]/$export): the Group's active member Patients and their compartments
def test_group_scope(app_: Flask, http: FlaskClient) -> None:
    from fhir_server.bulk.export_scope import ExportScope, group_patients

    people, _org = _data(http)
    group = {"resourceType": "Group", "type": "person", "actual": True, "member": [
        {"entity": {"reference": f"Patient/{people[0]}"}},
        {"entity": {"reference": f"{BASE}/Patient/{people[1]}"}},
        {"entity": {"reference": f"Patient/{people[2]}"}, "inactive": True}]}
    members = group_patients(group, BASE)
    assert members == people[:2]
    svc = app_.extensions["fhir"].internal()
    scope = ExportScope(svc, "group", svc.settings.clock(), patient_ids=members)
    assert sorted(r["id"] for r in scope.resources("Patient")) == sorted(people[:2])
    shots = {r["patient"]["reference"] for r in scope.resources("Immunization")}
    assert shots == {f"Patient/{p}" for p in people[:2]}


@pytest.mark.skipif(not is_supported("Group"), reason="Group is not a stored type yet")
def test_group_export_over_http(http: FlaskClient) -> None:
    people, _org = _data(http)
    group = {"resourceType": "Group", "type": "person", "actual": True,
             "member": [{"entity": {"reference": f"Patient/{people[0]}"}}]}
    gid = created_id(post(http, group))
    manifest = wait(http, kick_off(http, f"/Group/{gid}/$export")).get_json()
    assert [r["id"] for r in files(http, manifest)["Patient"]] == [people[0]]
    assert http.get(f"/Group/{uuid.uuid4().hex}/$export", headers=ASYNC).status_code == 404


# export.html (requiresAccessToken): with authentication on, kick-off, status and files need it
def test_requires_authorization(make_app: Callable[..., Flask], tmp_path: Path) -> None:
    client = make_app(export_dir=str(tmp_path), auth_required=True).test_client()
    assert client.get("/$export", headers=ASYNC).status_code == 401
    assert client.get(f"/_bulk/export/{uuid.uuid4().hex}").status_code == 401
    assert client.get(f"/_bulk/export/{uuid.uuid4().hex}/Patient-1.ndjson").status_code == 401


# export.html (status request) + our job store: a job whose worker process died (stale
# heartbeat) is taken over by the process answering the next status poll
def test_orphaned_job_is_taken_over(app_: Flask, http: FlaskClient) -> None:
    from datetime import timedelta

    from fhir_server.bulk.jobs import ExportRequest
    from fhir_server.bulk.worker import export_worker

    people, _org = _data(http)
    jobs = export_worker(app_.extensions["fhir"]).jobs
    job = jobs.create(ExportRequest(level="system", types=["Patient"], request=f"{BASE}/$export"))
    long_ago = job["created"] - timedelta(minutes=5)
    jobs.records.collection.update_one({"_id": job["_id"]}, {"$set": {
        "status": "in-progress", "worker": "a-dead-process", "heartbeat": long_ago}})
    manifest = wait(http, f"/_bulk/export/{job['_id']}").get_json()
    assert sorted(r["id"] for r in files(http, manifest)["Patient"]) == sorted(people)


# export.html (kick-off): POST with a Parameters resource is accepted too
def test_post_kick_off(http: FlaskClient) -> None:
    people, _org = _data(http)
    parameters = {"resourceType": "Parameters", "parameter": [
        {"name": "_type", "valueString": "Patient"},
        {"name": "_outputFormat", "valueString": "application/fhir+ndjson"}]}
    response = http.post("/$export", json=parameters,
                         headers={**ASYNC, "Content-Type": "application/fhir+json"})
    assert response.status_code == 202, response.get_json()
    manifest = wait(http, _local(response.headers["Content-Location"])).get_json()
    assert manifest["request"] == f"{BASE}/$export"
    assert sorted(r["id"] for r in files(http, manifest)["Patient"]) == sorted(people)


def _run_with(app_: Flask, monkeypatch: pytest.MonkeyPatch, meanwhile: Callable[..., None]
              ) -> tuple[dict[str, Any], Path, list[str]]:
    """Run a job in this thread; `meanwhile(jobs, job, folder)` happens after the first file
    line is written. The job as stored afterwards, its folder, and the errors logged."""
    from fhir_server.bulk.export_scope import ExportScope
    from fhir_server.bulk.jobs import ExportRequest
    from fhir_server.bulk.worker import export_worker

    svc = app_.extensions["fhir"].internal()
    jobs = export_worker(app_.extensions["fhir"]).jobs
    job = jobs.create(ExportRequest(level="system", types=["Patient"], request=f"{BASE}/$export"))
    job = jobs.claim(job["_id"], "me")
    assert job is not None
    folder = export_run.job_dir(svc, job["_id"])

    def resources(self: Any, type_name: str) -> Any:
        yield {"resourceType": "Patient", "id": "first"}
        meanwhile(jobs, job, folder)
        for number in range(export_run.FILE_LINES + 1):  # the next file must be opened
            yield {"resourceType": "Patient", "id": f"p{number}"}

    errors: list[str] = []
    monkeypatch.setattr(ExportScope, "resources", resources)
    monkeypatch.setattr(export_run.log, "exception", lambda *args: errors.append(args[0]))
    monkeypatch.setattr(export_run, "FILE_LINES", 2)
    monkeypatch.setattr(export_run, "BEAT", 10**9)  # no beat: the file error comes first
    export_run.run_export(svc, jobs, job, "me")
    stored = jobs.get(job["_id"])
    assert stored is not None
    return stored, folder, errors


# export.html (delete request): a job cancelled while it writes stops quietly, files removed
def test_cancel_that_removes_the_files_mid_run_is_not_a_failure(
        app_: Flask, monkeypatch: pytest.MonkeyPatch) -> None:
    import shutil

    def cancel(jobs: Any, job: dict[str, Any], folder: Path) -> None:
        jobs.cancel(job["_id"])
        shutil.rmtree(folder)  # the expiry sweep got there first

    stored, folder, errors = _run_with(app_, monkeypatch, cancel)
    assert stored["status"] == "cancelled" and errors == [] and not folder.exists()


def test_a_run_taken_over_leaves_the_new_runner_files(
        app_: Flask, monkeypatch: pytest.MonkeyPatch) -> None:
    import shutil

    def take_over(jobs: Any, job: dict[str, Any], folder: Path) -> None:
        jobs.records.collection.update_one({"_id": job["_id"]}, {"$set": {"worker": "other"}})
        shutil.rmtree(folder)  # the new runner starts afresh ...
        folder.mkdir(parents=True)
        (folder / "Patient-1.ndjson").write_bytes(b"{}\n")  # ... and writes its files

    stored, folder, errors = _run_with(app_, monkeypatch, take_over)
    assert stored["status"] == "in-progress" and stored["worker"] == "other"
    assert errors == [] and (folder / "Patient-1.ndjson").read_bytes() == b"{}\n"

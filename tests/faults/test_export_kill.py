"""Issue 16 point 3d, background jobs: `kill -9` of the server while a Bulk Data export runs in
its worker thread, then a restart. The job is taken over (its heartbeat went stale:
FHIR_JOB_STALE_SECONDS, 2 s here, 60 s by default), rewritten from the start as of its
transactionTime, and completes; the manifest's files hold every resource exactly once (Bulk Data
Access IG v2 export.html: the status URL keeps answering through the restart).
"""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
import requests
from flask import Flask

from fhir_server.auth.principal import INTERNAL_PRINCIPAL, acting_as
from tests.faults.processes import Served, serve_env, wait_for

PATIENTS, OBSERVATIONS = 200, 5000  # enough that the Observation phase outlasts the 50 ms polls
ASYNC = {"Prefer": "respond-async", "Accept": "application/fhir+json"}


@pytest.fixture()
def data(make_app: Callable[..., Flask]) -> tuple[str, dict[str, set[str]]]:
    """A database with Patients and Observations; (its name, type -> ids)."""
    app = make_app()
    backend = app.extensions["fhir"].internal().store.store
    with acting_as(INTERNAL_PRINCIPAL):
        people = backend.create_many("Patient", [
            {"resourceType": "Patient", "name": [{"text": f"Người {n}"}]}
            for n in range(PATIENTS)])
        observations = [v for first in range(0, OBSERVATIONS, 1000)
                        for v in backend.create_many("Observation", [
                            {"resourceType": "Observation", "status": "final",
                             "code": {"coding": [{"system": "http://loinc.org",
                                                  "code": "8302-2"}]},
                             "subject": {"reference": f"Patient/{people[n % PATIENTS].id}"},
                             "valueQuantity": {"value": n, "unit": "cm"}}
                            for n in range(first, first + 1000)])]
    return app.extensions["fhir"].settings.database, {
        "Patient": {v.id for v in people}, "Observation": {v.id for v in observations}}


@pytest.fixture()
def served(mongo_uri: str, data: tuple[str, dict[str, set[str]]], tmp_path: Path
           ) -> Iterator[Served]:
    """`fhir-server serve` on that database; a stale export is taken over after 2 s."""
    env = serve_env(tmp_path, mongo_uri, data[0], FHIR_JOB_STALE_SECONDS="2")
    server = Served(env, tmp_path / "serve.log", workers=1, threads=4)
    try:
        yield server.start()
    finally:
        server.stop()


def test_kill_9_during_export_then_takeover(served: Served,
                                            data: tuple[str, dict[str, set[str]]]) -> None:
    kick = requests.get(f"{served.base}/$export?_type=Patient,Observation", headers=ASYNC,
                        timeout=30)
    assert kick.status_code == 202, kick.text
    status_url = kick.headers["Content-Location"]

    def running() -> str | None:
        answer = requests.get(status_url, timeout=30)
        assert answer.status_code == 202, "the export finished before the kill"
        progress = answer.headers["X-Progress"]
        return progress if progress.startswith("Observation: ") else None

    seen = wait_for(running, 120, "the export to be writing Observations", every=0.05)
    served.kill()
    served.start()

    def finished() -> requests.Response | None:
        answer = requests.get(status_url, timeout=30)
        return answer if answer.status_code != 202 else None

    done = wait_for(finished, 120, "the taken-over export to complete", every=0.3)
    assert done.status_code == 200, done.text
    exported: dict[str, Counter[str]] = {}
    for item in done.json()["output"]:
        lines = requests.get(item["url"], timeout=60).text.splitlines()
        assert len(lines) == item["count"]
        exported.setdefault(item["type"], Counter()).update(json.loads(x)["id"] for x in lines)
    for type_name, ids in data[1].items():
        assert set(exported[type_name]) == ids, type_name
        assert max(exported[type_name].values()) == 1, f"{type_name} exported twice"
    print(f"export kill: killed at '{seen}', taken over and completed")

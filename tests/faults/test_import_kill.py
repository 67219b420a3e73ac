"""Issue 16 point 3d, imports: `kill -9` of `fhir-server import` mid-file, then the same
command again. It resumes from its checkpoint and every line is stored exactly once with the
file's content: each chunk is one database transaction committed before the checkpoint moves
(bulk/checkpoint.py), so the rerun replays at most the chunk in flight, and NDJSON resources with
ids (Bulk Data's format) are upserts — a replay adds no resource, at most a version.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

from flask import Flask

from tests.faults.processes import kill_group, wait_for

LINES, CHUNK = 200, 20


def _checkpoint_line(path: Path) -> int:
    try:
        files = json.loads(path.read_text("utf-8"))["files"]
    except (OSError, ValueError, KeyError):
        return 0
    return sum(int(entry.get("line", 0)) for entry in files.values())


def test_kill_9_import_then_resume(make_app: Callable[..., Flask], mongo_uri: str,
                                   tmp_path: Path) -> None:
    app = make_app()
    database = app.extensions["fhir"].settings.database
    source = tmp_path / "in"
    source.mkdir()
    people = [{"resourceType": "Patient", "id": f"imp-{n}", "gender": "female",
               "name": [{"family": "Phạm", "given": [f"Thị {n}"]}],
               "identifier": [{"system": "urn:test:import", "value": str(n)}]}
              for n in range(LINES)]
    (source / "Patient.ndjson").write_text(
        "".join(json.dumps(p, ensure_ascii=False) + "\n" for p in people), "utf-8")
    checkpoint, errors = tmp_path / "import.checkpoint.json", tmp_path / "import.errors.txt"
    command = [sys.executable, "-m", "fhir_server.cli", "import", str(source), "--checkpoint",
               str(checkpoint), "--errors", str(errors), "--chunk-size", str(CHUNK),
               "--no-progress"]
    env = {**os.environ, "MONGODB_URI": mongo_uri, "FHIR_DATABASE": database,
           "FHIR_HOME": str(tmp_path / "home"), "FHIR_LOAD_CONFORMANCE": "0",
           "FHIR_AUDIT": "off", "FHIR_DB_TIMEOUT_MS": "10000"}
    log = tmp_path / "import.log"
    first = subprocess.Popen(command, stdout=log.open("ab"), stderr=subprocess.STDOUT, env=env,
                             start_new_session=True)
    wait_for(lambda: _checkpoint_line(checkpoint) >= 3 * CHUNK or first.poll() is not None,
             120, "the import to commit a few chunks")
    assert first.poll() is None, "the import ended before the kill: " + log.read_text()[-2000:]
    kill_group(first)
    done_at_kill = _checkpoint_line(checkpoint)
    assert done_at_kill < LINES

    second = subprocess.run(command, env=env, capture_output=True, text=True, timeout=300)
    assert second.returncode == 0, second.stdout + second.stderr
    assert errors.read_text("utf-8") == ""
    client = app.test_client()
    found = client.get("/Patient?identifier=urn:test:import|&_count=0").get_json()
    assert found["total"] == LINES  # no resource twice, none missing
    for person in people[::97]:  # a sample read back with the file's content
        stored = client.get(f"/Patient/{person['id']}").get_json()
        assert {k: stored[k] for k in person} == person
    assert json.loads(checkpoint.read_text("utf-8"))["files"]["Patient.ndjson"].get("done")
    print(f"import kill: killed after {done_at_kill} lines committed, resumed to {LINES}; "
          f"rerun: {second.stdout.strip().splitlines()[-1]}")

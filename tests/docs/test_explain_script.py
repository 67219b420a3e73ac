"""docs/deploy.md (issue 16 point 1): the explain script runs on the test database and writes
a plan for every hot query through the server's own code, and the page names every collection
the server makes (so a shard key is chosen for each)."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from fhir_server.resource_types import RESOURCE_TYPES

ROOT = Path(__file__).resolve().parents[2]
SCRIPT, DOC = ROOT / "docs" / "scripts" / "explain_hot_queries.py", ROOT / "docs" / "deploy.md"
STORAGE = ROOT / "fhir_server" / "storage"
QUERIES = ("read", "patient-by-identifier", "immunizations-of-patient",
           "appointments-of-an-hour", "update", "vread", "instance-history", "everything",
           "outbox-claim", "job-claim", "token-refresh", "logout")


@pytest.fixture(scope="module")
def explained(mongo_uri: str, tmp_path_factory: pytest.TempPathFactory
              ) -> tuple[Path, dict[str, Any]]:
    """The script run once on the test server: (its copy of the doc, its JSON by name)."""
    root = tmp_path_factory.mktemp("explain")
    doc = root / "deploy.md"
    shutil.copy(DOC, doc)
    done = subprocess.run([sys.executable, str(SCRIPT), "--uri", mongo_uri, "--out",
                           str(root / "explain"), "--doc", str(doc)],
                          capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stderr[-3000:]
    assert f"of {len(QUERIES)} hot queries explained" in done.stdout
    return doc, {path.stem: json.loads(path.read_text("utf-8"))
                 for path in (root / "explain").glob("*.json")}


def _first(result: dict[str, Any], collection: str) -> dict[str, Any]:
    return next(c for c in result["commands"] if c["collection"] == collection)


def test_every_hot_query_is_explained(explained: tuple[Path, dict[str, Any]]) -> None:
    _, results = explained
    assert set(results) == {*QUERIES, "collections"}
    for name in QUERIES:
        assert results[name]["commands"], name
        for command in results[name]["commands"]:
            assert command["plan"] and "queryPlanner" in json.dumps(command["explain"])


def test_the_indexes_hot_queries_use(explained: tuple[Path, dict[str, Any]]) -> None:
    _, results = explained
    assert _first(results["read"], "Patient")["indexes"] == ["_id_"]
    found = _first(results["patient-by-identifier"], "Patient")
    assert found["indexes"] == ["search_keys"] and found["nReturned"] == 1
    # idx.k holds the value once; the exact system|value decides after it (issue 17 point 3)
    assert [stage["$match"] for stage in found["command"]["pipeline"][:2]] == [
        {"idx.k": "identifier\x1c001085012345"},
        {"idx.p.identifier": "urn:vn:cccd\x1f001085012345"}]
    doses = _first(results["immunizations-of-patient"], "Immunization")
    assert doses["indexes"] == ["search_keys"] and doses["nReturned"] == 2  # the demo's two
    hour = _first(results["appointments-of-an-hour"], "Appointment")
    # no date keys in idx.k (issue 17 point 3): the hour is one range on the lo index
    assert hour["indexes"] == ["search_date_lo"]
    assert set(hour["command"]["pipeline"][0]["$match"]) == {"idx.p.date.lo"}
    assert _first(results["vread"], "history")["indexes"] == ["_id_"]
    assert {c["collection"] for c in results["everything"]["commands"]} >= {
        "Patient", "Immunization", "AdverseEvent", "Appointment"}
    claim = [(next(iter(c["command"])), c["collection"])
             for c in results["outbox-claim"]["commands"]]
    assert ("find", "_outbox") in claim and ("findAndModify", "_outbox") in claim  # due, claim
    assert [next(iter(c["command"])) for c in results["logout"]["commands"]] == ["delete",
                                                                                 "update"]


def test_doc_section_is_generated(explained: tuple[Path, dict[str, Any]]) -> None:
    doc, results = explained
    text = doc.read_text("utf-8")
    section = text.split("<!-- BEGIN explain")[1].split("<!-- END explain -->")[0]
    rows = [line for line in section.splitlines() if line.startswith("| `")]
    assert len(rows) == sum(len(results[name]["commands"]) for name in QUERIES)
    assert any("`read`" in row and "_id_" in row for row in rows)


def test_doc_names_every_collection(explained: tuple[Path, dict[str, Any]]) -> None:
    """Every collection the app made, and every collection name the storage code spells."""
    _, results = explained
    made = set(results["collections"]) - {"resource types"}
    assert results["collections"]["resource types"]["collections"] == len(RESOURCE_TYPES)
    spelled = set()
    for source in STORAGE.glob("*.py"):
        spelled |= set(re.findall(r'^[A-Z_]+ = "(_[a-z_]+|history)"$',
                                  source.read_text("utf-8"), re.MULTILINE))
    text = DOC.read_text("utf-8")
    named = set(re.findall(r"`(_[a-z_]+|history)`", text))
    cells = {name for name in made | spelled if name.startswith("_analytics_cells_")}
    if cells:
        assert "`_analytics_cells_*`" in text
    assert (made | spelled) - cells - named == set()
    assert "one collection per resource type" in text.lower()

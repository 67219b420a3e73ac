"""profiles/ is what its generator writes, and each file is sound FHIR R4: StructureDefinitions
are constraints with a differential and a snapshot holding every differential element
(profiling.html#snapshot, structuredefinition.html sdf-*), every FHIRPath invariant compiles,
every bound value set is known, Questionnaire linkIds are unique (que-2)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from fhir_server.conformance import PROFILES_ROOT, profile_resources
from fhir_server.model.parse import validate_resource
from fhir_server.settings import Settings
from fhir_server.validation.fhirpath import compile_fhirpath
from fhir_server.validation.profiles import profile_checker

GENERATOR = PROFILES_ROOT / "scripts" / "make_profiles.py"
RESOURCES = profile_resources()


def _by_type(type_name: str) -> list[dict[str, Any]]:
    return [r for r in RESOURCES if r["resourceType"] == type_name]


def test_regeneration_is_identical() -> None:
    result = subprocess.run([sys.executable, str(GENERATOR), "--check"], capture_output=True,
                            text=True, timeout=300, cwd=Path(__file__).resolve().parents[2])
    assert result.returncode == 0, result.stdout + result.stderr


@pytest.mark.parametrize("resource", RESOURCES, ids=[r["id"] for r in RESOURCES])
def test_valid_fhir_r4(resource: dict[str, Any]) -> None:
    assert validate_resource(json.loads(json.dumps(resource))) is not None


@pytest.mark.parametrize("definition", _by_type("StructureDefinition"),
                         ids=[r["id"] for r in _by_type("StructureDefinition")])
def test_structure_definitions(definition: dict[str, Any]) -> None:
    assert definition["derivation"] == "constraint"
    assert definition["url"].endswith("/" + definition["id"])
    snapshot = {e["id"]: e for e in definition["snapshot"]["element"]}
    for element in definition["differential"]["element"]:
        assert element["id"] in snapshot, element["id"]
        for item in element.get("constraint", []):
            assert item in [{k: v for k, v in c.items() if k != "source"}
                            for c in snapshot[element["id"]]["constraint"]]
            if "expression" in item:  # our invariants all take the fast path
                assert compile_fhirpath(item["expression"]).fast is not None, item
    compiled = profile_checker(Settings()).registry.profile(definition["url"])
    assert compiled is not None and compiled.notes == []


@pytest.mark.parametrize("questionnaire", _by_type("Questionnaire"),
                         ids=[r["id"] for r in _by_type("Questionnaire")])
def test_questionnaires(questionnaire: dict[str, Any]) -> None:
    links: list[str] = []

    def walk(items: list[dict[str, Any]]) -> None:
        for item in items:
            links.append(item["linkId"])
            walk(item.get("item", []))
    walk(questionnaire["item"])
    assert len(links) == len(set(links))
    checker = profile_checker(Settings())
    for item in questionnaire["item"]:
        bound = item.get("answerValueSet")
        if bound:
            assert checker.registry.terminology.store.has("ValueSet", bound), bound

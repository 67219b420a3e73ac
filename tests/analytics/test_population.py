"""Population denominators: the shipped file (34 provinces, group shares marked as
assumptions) and a deployment's own file (FHIR_POPULATION_FILE)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from fhir_server.analytics.areas import codes
from fhir_server.analytics.population import DEFAULT_FILE, population
from fhir_server.errors import ServiceUnavailable


def test_shipped_file_covers_every_2025_province_and_says_shares_are_assumed() -> None:
    data = json.loads(DEFAULT_FILE.read_text(encoding="utf-8"))
    assert set(data["provinces"]) == set(codes().provinces)
    assert data["groupSharesAreAssumptions"] is True
    assert set(data["groupShares"]) == set(codes().groups)
    shipped = population()
    assert shipped.of(("79",), None) == data["provinces"]["79"]["population"]
    assert shipped.of(("79",), "9") == round(data["provinces"]["79"]["population"]
                                             * data["groupShares"]["9"])
    assert shipped.of(("00004",), None) == 0  # no commune figures


def test_a_deployment_file_with_real_group_figures(tmp_path: Path) -> None:
    path = tmp_path / "pop.json"
    path.write_text(json.dumps({"provinces": {"01": {"population": 1000}},
                                "communes": {"00004": 40},
                                "groups": {"01": {"9": 120}}}))
    own = population(str(path))
    assert own.of(None, None) == 1000
    assert own.of(("01",), "9") == 120
    assert own.of(("01",), "1") == 0  # no share, no figure: unknown
    assert own.of(("00004",), None) == 40


def test_an_unreadable_file_is_a_clear_error(tmp_path: Path) -> None:
    with pytest.raises(ServiceUnavailable):
        population(str(tmp_path / "missing.json"))

"""Shared fixtures: the generated resources, their canonical URLs and one service instance."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from fhir_server.terminology import TerminologyService

ROOT = Path(__file__).resolve().parents[2] / "terminology"


def load_all() -> list[tuple[Path, dict[str, Any]]]:
    """Every generated resource with its path."""
    return [(p, json.loads(p.read_text(encoding="utf-8")))
            for folder in ("codesystems", "valuesets", "conceptmaps")
            for p in sorted((ROOT / folder).glob("*.json"))]


@pytest.fixture(scope="session")
def resources() -> dict[str, dict[str, Any]]:
    """Generated resources keyed by '<resourceType>/<id>'."""
    return {f"{r['resourceType']}/{r['id']}": r for _, r in load_all()}


@pytest.fixture(scope="session")
def urls(resources: dict[str, dict[str, Any]]) -> dict[str, str]:
    """Canonical URL of each generated resource, keyed by '<resourceType>/<id>'."""
    return {key: r["url"] for key, r in resources.items()}


@pytest.fixture(scope="session")
def tx() -> TerminologyService:
    """A service over the committed terminology/ folder with a fixed clock."""
    return TerminologyService(clock=lambda: datetime(2025, 7, 1, tzinfo=UTC))

"""Load the demo data set (a few Vietnamese patients, doses, a reaction, an appointment)."""

from __future__ import annotations

import json
from importlib import resources
from typing import Any

from fhir_server.errors import NotFound
from fhir_server.interactions import crud
from fhir_server.interactions.context import Services


def demo_resources() -> list[dict[str, Any]]:
    """The demo resources, in dependency order."""
    text = resources.files("fhir_server.demo").joinpath("demo.json").read_text("utf-8")
    return list(json.loads(text))


def seed(svc: Services) -> int:
    """Create the demo resources that do not exist yet; returns how many were created."""
    created = 0
    for resource in demo_resources():
        try:
            crud.read(svc, resource["resourceType"], resource["id"])
        except NotFound:
            crud.update(svc, resource["resourceType"], resource["id"], resource)
            created += 1
    return created

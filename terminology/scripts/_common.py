"""Shared helpers of the terminology generators: paths, canonical URLs, validation, JSON output."""

from __future__ import annotations

import json
import os
from collections.abc import Iterable
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
SOURCES = ROOT / "sources"
DEFAULT_OUT = ROOT

#: Canonical base of every CodeSystem/ValueSet/ConceptMap defined here. NOT an official namespace:
#: the Ministry of Health publishes none (see terminology/README.md). Override with the
#: environment variable VN_TERMINOLOGY_BASE and re-run make_all.py.
BASE = os.environ.get("VN_TERMINOLOGY_BASE", "https://fhir.moh.gov.vn/terminology").rstrip("/")
PUBLISHER = "fhir_server project (unofficial; not published by the Viet Nam Ministry of Health)"
JURISDICTION = [{"coding": [{"system": "urn:iso:std:iso:3166", "code": "VN",
                              "display": "Viet Nam"}]}]

Resource = dict[str, Any]


def url(kind: str, rid: str) -> str:
    """Canonical URL of one of our resources, e.g. url('CodeSystem', 'vn-province')."""
    return f"{BASE}/{kind}/{rid}"


def load_source(name: str) -> Any:
    """Read a JSON snapshot from terminology/sources/."""
    return json.loads((SOURCES / name).read_text(encoding="utf-8"))


def validate(resource: Resource) -> Resource:
    """Validate against the FHIR R4 (R4B classes) model; return the resource unchanged."""
    from fhir.resources.R4B import get_fhir_model_class

    get_fhir_model_class(resource["resourceType"]).model_validate(resource)
    return resource


def folder_of(resource: Resource) -> str:
    """Output sub-folder of a resource type."""
    return {"CodeSystem": "codesystems", "ValueSet": "valuesets",
            "ConceptMap": "conceptmaps"}[resource["resourceType"]]


def write(resources: Iterable[Resource], out: Path = DEFAULT_OUT,
          compact: bool = False) -> list[Path]:
    """Validate and write each resource as <out>/<folder>/<id>.json (sorted keys, stable)."""
    paths = []
    for res in resources:
        validate(res)
        path = out / folder_of(res) / f"{res['id']}.json"
        path.parent.mkdir(parents=True, exist_ok=True)
        if compact:
            text = json.dumps(res, ensure_ascii=False, sort_keys=True, separators=(",", ":"))
        else:
            text = json.dumps(res, ensure_ascii=False, sort_keys=True, indent=1)
        path.write_text(text + "\n", encoding="utf-8")
        paths.append(path)
    return paths


def codesystem(rid: str, title: str, description: str, concepts: list[Resource], *,
               version: str, date: str, properties: list[Resource] | None = None,
               content: str = "complete", system_url: str | None = None,
               case_sensitive: bool = True, extra: Resource | None = None) -> Resource:
    """Build a CodeSystem resource with our common metadata."""
    res: Resource = {
        "resourceType": "CodeSystem", "id": rid, "url": system_url or url("CodeSystem", rid),
        "version": version, "name": _name(rid), "title": title, "status": "active",
        "experimental": False, "date": date, "publisher": PUBLISHER, "description": description,
        "jurisdiction": JURISDICTION, "caseSensitive": case_sensitive, "content": content,
        "count": _count(concepts), "concept": concepts,
    }
    if system_url is None:
        res["valueSet"] = url("ValueSet", rid)
    if properties:
        res["property"] = properties
    res.update(extra or {})
    return res


def valueset(rid: str, title: str, description: str, includes: list[Resource], *,
             version: str, date: str, vs_url: str | None = None) -> Resource:
    """Build a ValueSet resource (compose only; expansions are computed by the service)."""
    return {
        "resourceType": "ValueSet", "id": rid, "url": vs_url or url("ValueSet", rid),
        "version": version, "name": _name(rid), "title": title, "status": "active",
        "experimental": False, "date": date, "publisher": PUBLISHER, "description": description,
        "jurisdiction": JURISDICTION, "immutable": False, "compose": {"include": includes},
    }


def conceptmap(rid: str, title: str, description: str, source: str, target: str,
               groups: list[Resource], *, version: str, date: str) -> Resource:
    """Build a ConceptMap resource from its groups."""
    return {
        "resourceType": "ConceptMap", "id": rid, "url": url("ConceptMap", rid),
        "version": version, "name": _name(rid), "title": title, "status": "active",
        "experimental": False, "date": date, "publisher": PUBLISHER, "description": description,
        "jurisdiction": JURISDICTION, "sourceUri": source, "targetUri": target, "group": groups,
    }


def _name(rid: str) -> str:
    return "".join(part.capitalize() for part in rid.replace("_", "-").split("-"))


def _count(concepts: list[Resource]) -> int:
    return sum(1 + _count(c.get("concept", [])) for c in concepts)

"""Loading and indexing of CodeSystems, ValueSets and ConceptMaps (lazy, cached, dict-indexed)."""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import orjson

from fhir_server.errors import InvalidRequest, NotFound

Resource = dict[str, Any]
KINDS = ("CodeSystem", "ValueSet", "ConceptMap")
DEFAULT_ROOT = Path(__file__).resolve().parents[2] / "terminology"


def split_canonical(canonical: str) -> tuple[str, str | None]:
    """Split 'url|version' into (url, version or None)."""
    url, _, version = canonical.partition("|")
    return url, (version or None)


def _version_key(version: str) -> tuple[tuple[int, int | str], ...]:
    return tuple((0, int(p)) if p.isdigit() else (1, p) for p in re.split(r"[.\-]", version))


@dataclass
class CodeSystemIndex:
    """A CodeSystem with its concepts flattened into a dict, plus parent/child links."""

    resource: Resource
    concepts: dict[str, Resource] = field(default_factory=dict)
    parents: dict[str, list[str]] = field(default_factory=dict)
    children: dict[str, list[str]] = field(default_factory=dict)
    _folded: dict[str, str] = field(default_factory=dict)

    def __post_init__(self) -> None:
        self._walk(self.resource.get("concept", []), None)
        if not self.resource.get("caseSensitive", False):
            self._folded = {c.casefold(): c for c in self.concepts}

    def _walk(self, concepts: list[Resource], parent: str | None) -> None:
        for concept in concepts:
            code = concept["code"]
            self.concepts[code] = concept
            if parent is not None:
                self.parents.setdefault(code, []).append(parent)
                self.children.setdefault(parent, []).append(code)
            self._walk(concept.get("concept", []), code)

    @property
    def url(self) -> str:
        """Canonical URL of the code system."""
        return str(self.resource["url"])

    @property
    def version(self) -> str | None:
        """Business version, if any."""
        return self.resource.get("version")

    def get(self, code: str) -> Resource | None:
        """The concept with this code (case-insensitively when the system says so)."""
        found = self.concepts.get(code)
        if found is None and self._folded:
            real = self._folded.get(code.casefold())
            found = self.concepts.get(real) if real else None
        return found

    def descendants(self, code: str) -> Iterator[str]:
        """Codes below `code` in the hierarchy (not including it)."""
        for child in self.children.get(code, []):
            yield child
            yield from self.descendants(child)

    def property_values(self, code: str, prop: str) -> list[str]:
        """String forms of the values of property `prop` on concept `code`."""
        concept = self.concepts.get(code, {})
        return [str(v) for p in concept.get("property", []) if p["code"] == prop
                for k, v in p.items() if k.startswith("value")]


class Store:
    """Every terminology resource from a folder (and extra dicts), indexed by URL and version."""

    def __init__(self, root: Path | None = None, extra: Iterable[Resource] = ()) -> None:
        self.root = root or DEFAULT_ROOT
        self._extra = list(extra)
        self._by_url: dict[str, dict[str, dict[str, Resource]]] | None = None
        self._cs_index: dict[tuple[str, str], CodeSystemIndex] = {}

    def _load(self) -> dict[str, dict[str, dict[str, Resource]]]:
        if self._by_url is None:
            by_url: dict[str, dict[str, dict[str, Resource]]] = {k: {} for k in KINDS}
            for res in [*self._read_folder(), *self._extra]:
                kind = res.get("resourceType")
                if kind in KINDS and res.get("url"):
                    versions = by_url[kind].setdefault(res["url"], {})
                    versions[res.get("version") or ""] = res
            self._by_url = by_url
        return self._by_url

    def _read_folder(self) -> Iterator[Resource]:
        for folder in ("codesystems", "valuesets", "conceptmaps"):
            for path in sorted((self.root / folder).glob("*.json")):
                yield orjson.loads(path.read_bytes())

    def urls(self, kind: str) -> list[str]:
        """Every canonical URL of a resource type."""
        return sorted(self._load()[kind])

    def has(self, kind: str, canonical: str) -> bool:
        """True if a resource of this type has the URL (any version)."""
        return split_canonical(canonical)[0] in self._load()[kind]

    def find(self, kind: str, canonical: str, version: str | None = None) -> Resource:
        """The resource for 'url' or 'url|version' (latest version when none is given)."""
        url, pinned = split_canonical(canonical)
        version = version or pinned
        versions = self._load()[kind].get(url)
        if not versions:
            raise NotFound(f"No {kind} with URL '{url}' is known to this server")
        if version is None:
            return versions[max(versions, key=_version_key)]
        if version not in versions:
            known = ", ".join(sorted(v for v in versions if v)) or "(none)"
            raise NotFound(f"{kind} '{url}' has no version '{version}' (known: {known})")
        return versions[version]

    def all(self, kind: str) -> Iterator[Resource]:
        """Every resource of a type, every version."""
        for versions in self._load()[kind].values():
            yield from versions.values()

    def code_system(self, system: str, version: str | None = None) -> CodeSystemIndex:
        """The indexed CodeSystem for 'system' (optionally pinned), cached."""
        if not system:
            raise InvalidRequest("A code system URL is required")
        res = self.find("CodeSystem", system, version)
        key = (res["url"], res.get("version") or "")
        if key not in self._cs_index:
            self._cs_index[key] = CodeSystemIndex(res)
        return self._cs_index[key]

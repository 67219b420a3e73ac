"""The server's conformance resources: profiles/ (StructureDefinitions, Questionnaires, their
ValueSets) and terminology/ (CodeSystems, ValueSets, ConceptMaps), read from the repository.

- `profile_resources(systems)`: profiles/ with the default identifier system URIs replaced by
  the configured ones (settings `*_system`), so what is served is what is enforced.
- `conformance_terminology()`: the terminology service over terminology/ + profiles/ ValueSets.
- `load_conformance(store, settings)`: upsert all of them into the store (stable ids) when
  missing or changed; unchanged ones are recognised by `meta.source`, which carries a content
  hash, with one count query per resource type.
- `install(services)`: what the app does at start-up (checker, optional loading).
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterator
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import TYPE_CHECKING, Any

import orjson

from fhir_server.search.criteria import AnyOf, ElementIs, IdIn, of
from fhir_server.settings import Settings
from fhir_server.storage.base import ResourceStore
from fhir_server.terminology import TerminologyService

if TYPE_CHECKING:
    from fhir_server.interactions.context import Services

REPO_ROOT = Path(__file__).resolve().parents[1]
PROFILES_ROOT = REPO_ROOT / "profiles"
TERMINOLOGY_ROOT = REPO_ROOT / "terminology"
PROFILE_FOLDERS = ("structuredefinitions", "questionnaires", "valuesets", "searchparameters",
                   "measures")
TERMINOLOGY_FOLDERS = ("codesystems", "valuesets", "conceptmaps")
SOURCE_PREFIX = "urn:fhir-server:conformance:"
_NO_FOLDER = REPO_ROOT / "var" / "no-terminology-folder"  # never created: extras only
IDENTIFIER_KINDS = ("cccd", "cmnd", "bhyt", "bhxh", "passport")
Systems = tuple[tuple[str, str], ...]


def identifier_systems(settings: Settings) -> Systems:
    """(kind, system URI) for each Vietnamese identifier kind, from the settings."""
    systems = tuple((kind, str(getattr(settings, f"{kind}_system"))) for kind in IDENTIFIER_KINDS)
    for kind, uri in systems:
        if not uri or any(ch in uri for ch in "'\"\\ ") or ":" not in uri:
            raise ValueError(f"FHIR_SYSTEM_{kind.upper()} must be an absolute URI without "
                             f"quotes, backslashes or spaces (got {uri!r})")
    return systems


DEFAULT_SYSTEMS = identifier_systems(Settings())


def _read(root: Path, folders: tuple[str, ...]) -> Iterator[tuple[str, bytes]]:
    for folder in folders:
        for path in sorted((root / folder).glob("*.json")):
            yield f"{root.name}/{folder}/{path.name}", path.read_bytes()


@cache
def profile_resources(systems: Systems = DEFAULT_SYSTEMS) -> tuple[dict[str, Any], ...]:
    """The profiles/ resources, identifier systems substituted (shared: don't mutate)."""
    replacements = [(default, configured) for (_, default), (_, configured)
                    in zip(DEFAULT_SYSTEMS, systems, strict=True) if default != configured]
    out = []
    for name, raw in _read(PROFILES_ROOT, PROFILE_FOLDERS):
        text = raw.decode("utf-8")
        for default, configured in replacements:
            text = text.replace(f"'{default}'", f"'{configured}'").replace(
                f'"{default}"', f'"{configured}"')
        out.append(_stamped(orjson.loads(text), name, text.encode("utf-8")))
    return tuple(out)


def _stamped(resource: dict[str, Any], name: str, raw: bytes) -> dict[str, Any]:
    """The resource with meta.source naming its file and content hash."""
    digest = hashlib.sha256(raw).hexdigest()[:16]
    resource["meta"] = {**resource.get("meta", {}), "source": f"{SOURCE_PREFIX}{name}#{digest}"}
    return resource


def terminology_resources() -> Iterator[dict[str, Any]]:
    """The terminology/ resources, read afresh (large: about 3.8 MB)."""
    for name, raw in _read(TERMINOLOGY_ROOT, TERMINOLOGY_FOLDERS):
        yield _stamped(orjson.loads(raw), name, raw)


@cache
def conformance_terminology() -> TerminologyService:
    """The terminology service of validation and the terminology operations (cached)."""
    extra = [r for r in profile_resources() if r["resourceType"] in ("ValueSet", "CodeSystem")]
    return TerminologyService(TERMINOLOGY_ROOT, extra=extra)


def terminology_with(*resources: dict[str, Any]) -> TerminologyService:
    """A service knowing what conformance_terminology() knows plus these resources (they win
    over same-URL ones); built from the loaded resources, without re-reading the folder."""
    base = conformance_terminology()
    known = [r for kind in ("CodeSystem", "ValueSet", "ConceptMap") for r in base.store.all(kind)]
    return TerminologyService(_NO_FOLDER, extra=[*known, *resources])


def operation_definition_resources(base_url: str) -> Iterator[dict[str, Any]]:
    """The OperationDefinitions the CapabilityStatement names (operations/definitions.py)."""
    from fhir_server.operations.definitions import operation_definitions

    for resource in operation_definitions(base_url):
        yield _stamped(resource, f"operations/{resource['id']}", orjson.dumps(resource))


@dataclass
class LoadReport:
    """What load_conformance did."""

    written: list[str]
    unchanged: int


def load_conformance(store: ResourceStore, settings: Settings) -> LoadReport:
    """Upsert the conformance resources that are missing or changed; report what was written."""
    report = LoadReport(written=[], unchanged=0)
    resources = [*profile_resources(identifier_systems(settings)), *terminology_resources(),
                 *operation_definition_resources(settings.base_url)]
    by_type: dict[str, list[dict[str, Any]]] = {}
    for resource in resources:
        by_type.setdefault(resource["resourceType"], []).append(resource)
    for type_name, group in sorted(by_type.items()):
        current = [of(IdIn((r["id"],)), ElementIs("meta.source", r["meta"]["source"]))
                   for r in group]
        if store.count(type_name, of(AnyOf(tuple(current)))) == len(group):
            report.unchanged += len(group)
            continue
        for resource, query in zip(group, current, strict=True):
            if store.count(type_name, query):
                report.unchanged += 1
                continue
            store.update(type_name, resource["id"], resource)
            report.written.append(f"{type_name}/{resource['id']}")
    return report


def install(services: Services) -> None:
    """Start-up wiring: the profile checker on every write, then (if set) load conformance."""
    from fhir_server.validation.profiles import profile_checker

    server = services.internal()  # the server's own work: definitions are read and loaded as it
    checker = profile_checker(services.settings, server.store)
    services.checkers.append(checker)
    services.components["profiles"] = checker
    from fhir_server.campaign.advice import ReactionChecker

    services.checkers.append(ReactionChecker(server.store))  # reaction reports: dose, advice
    if services.settings.identifier_rules:
        from fhir_server.validation.identifier_rules import VN_PATIENT, IdentifierChecker

        vn_patient = checker.registry.profile(VN_PATIENT)
        if vn_patient is not None:  # identifiers checked on every Patient, claimed or not
            services.checkers.append(IdentifierChecker(checker.registry.validator, vn_patient))
        from fhir_server.validation.site_dose_rules import SiteDoseChecker

        services.checkers.append(SiteDoseChecker())  # lot, dose number, site, vaccinator
    if services.settings.load_conformance:
        load_conformance(server.store, services.settings)

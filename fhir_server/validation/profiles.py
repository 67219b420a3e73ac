"""Profile validation on writes: the registry of profiles/ and the ResourceChecker using it.

A resource is checked against every profile its `meta.profile` claims (profiling.html
"Claiming conformance to a profile"); for the types listed in FHIR_REQUIRED_PROFILES it must
claim one of our Vietnamese profiles of its type (the way HAPI FHIR's repository validating
interceptor's `requireAtLeastProfile` works). An unknown profile URL is an error, except for
profiles of the base specification (http://hl7.org/fhir/StructureDefinition/...), which
official examples claim and which give a warning (not checked). A QuestionnaireResponse is
checked against its Questionnaire (profiles/ or the store; unresolvable -> warning).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from functools import cache
from typing import Any

from fhir_server.conformance import (
    Systems,
    conformance_terminology,
    identifier_systems,
    profile_resources,
    terminology_with,
)
from fhir_server.errors import FhirError, Issue
from fhir_server.search.criteria import ElementIs, of
from fhir_server.settings import Settings
from fhir_server.storage.base import ResourceStore
from fhir_server.validation.custom_rules import RuleContext
from fhir_server.validation.profile_check import ProfileValidator
from fhir_server.validation.profile_compile import CompiledProfile, compile_profile
from fhir_server.validation.questionnaire import InValueSet, check_response

CORE_PROFILES = "http://hl7.org/fhir/StructureDefinition/"
FindQuestionnaire = Callable[[str], dict[str, Any] | None]


def _canonical(url: str) -> str:
    return url.partition("|")[0]


class ProfileRegistry:
    """The profiles/ StructureDefinitions and Questionnaires, compiled on first use."""

    def __init__(self, resources: tuple[dict[str, Any], ...], systems: Mapping[str, str]) -> None:
        self.terminology = conformance_terminology()
        self.definitions = {r["url"]: r for r in resources
                            if r["resourceType"] == "StructureDefinition"}
        self.questionnaires = {r["url"]: r for r in resources
                               if r["resourceType"] == "Questionnaire"}
        self._compiled: dict[str, CompiledProfile] = {}
        self.validator = ProfileValidator(self.terminology, self.profile,
                                          RuleContext(self.terminology, dict(systems)))

    def profile(self, url: str) -> CompiledProfile | None:
        """The compiled profile with this canonical URL (version ignored), or None."""
        url = _canonical(url)
        compiled = self._compiled.get(url)
        if compiled is None and url in self.definitions:
            compiled = compile_profile(self.definitions[url], self.definitions.get,
                                       self._known_value_set)
            self._compiled[url] = compiled
        return compiled

    def _known_value_set(self, url: str) -> bool:
        return self.terminology.store.has("ValueSet", url)

    def profiles_for(self, type_name: str) -> list[str]:
        """URLs of our resource profiles of a type."""
        return sorted(url for url, sd in self.definitions.items()
                      if sd["type"] == type_name and sd.get("kind") == "resource")

    def questionnaire(self, url: str) -> dict[str, Any] | None:
        """A profiles/ Questionnaire by canonical URL."""
        return self.questionnaires.get(_canonical(url))

    def in_value_set(self, value_set: str, system: str | None,
                     code: str) -> tuple[bool | None, str | None]:
        """Membership test through the terminology service (cached; None: unknown set)."""
        return self.validator.member(value_set, system, code)


@cache
def load_registry(systems: Systems) -> ProfileRegistry:
    """The registry for one set of identifier systems (shared across apps)."""
    return ProfileRegistry(profile_resources(systems), dict(systems))


class ProfileChecker:
    """The ResourceChecker for claimed/required profiles and QuestionnaireResponses."""

    def __init__(self, registry: ProfileRegistry, required_types: tuple[str, ...] = (),
                 find_questionnaire: FindQuestionnaire | None = None) -> None:
        self.registry = registry
        self.required = {t: registry.profiles_for(t) for t in required_types}
        for type_name, urls in self.required.items():
            if not urls:
                known = sorted({sd["type"] for sd in registry.definitions.values()
                                if sd.get("kind") == "resource"})
                raise ValueError(f"FHIR_REQUIRED_PROFILES names {type_name}, which has no "
                                 f"Vietnamese profile (known: {', '.join(known)})")
        self.find_questionnaire = find_questionnaire or (lambda url: None)

    def check(self, resource: dict[str, Any]) -> list[Issue]:
        """Issues of a resource against its claimed (and required) profiles."""
        type_name = resource.get("resourceType", "")
        meta = resource.get("meta")
        claimed = meta.get("profile", []) if isinstance(meta, dict) else []
        issues: list[Issue] = []
        for index, url in enumerate(claimed):
            issues += self.check_against(resource, url, f"{type_name}.meta.profile[{index}]")
        required = self.required.get(type_name)
        if required and not any(_canonical(url) in required for url in claimed):
            issues.append(Issue("processing", f"{type_name} resources must claim one of these "
                                f"profiles in meta.profile: {', '.join(required)}",
                                expression=(f"{type_name}.meta.profile",)))
        if type_name == "QuestionnaireResponse":
            issues += self.check_response(resource)
        return issues

    def check_against(self, resource: dict[str, Any], url: str, where: str) -> list[Issue]:
        """Issues of a resource against one profile URL (`where` locates the URL itself)."""
        profile = self.registry.profile(url)
        type_name = resource.get("resourceType", "")
        if profile is None:
            if url.startswith(CORE_PROFILES):
                return [Issue("not-supported", f"Profile {url} of the base specification is "
                              "not checked by this server", "warning", (where,))]
            return [Issue("not-found", f"Unknown profile {url}: this server knows "
                          f"{', '.join(self.registry.profiles_for(type_name)) or 'no profile'} "
                          f"for {type_name}", expression=(where,))]
        if profile.type != type_name or profile.kind != "resource":
            return [Issue("invalid", f"Profile {url} constrains {profile.type}, not "
                          f"{type_name}", expression=(where,))]
        return self.registry.validator.validate(resource, profile)

    def check_response(self, response: dict[str, Any]) -> list[Issue]:
        """A QuestionnaireResponse against its Questionnaire (warning when unresolvable)."""
        canonical = response.get("questionnaire")
        if not isinstance(canonical, str):
            return []
        questionnaire: dict[str, Any] | None = None
        if canonical.startswith("#"):
            questionnaire = next((c for c in response.get("contained", [])
                                  if c.get("resourceType") == "Questionnaire"
                                  and c.get("id") == canonical[1:]), None)
        else:
            questionnaire = (self.registry.questionnaire(canonical)
                             or self.find_questionnaire(_canonical(canonical)))
        if questionnaire is None:
            return [Issue("not-found", f"Questionnaire {canonical} is unknown to this server: "
                          "answers not checked", "warning",
                          ("QuestionnaireResponse.questionnaire",))]
        return check_response(response, questionnaire, self._value_sets_of(questionnaire))

    def _value_sets_of(self, questionnaire: dict[str, Any]) -> InValueSet:
        """Membership tests for a questionnaire: its contained value sets ('#id') too."""
        contained = {f"#{c.get('id')}": c for c in questionnaire.get("contained", [])
                     if c.get("resourceType") == "ValueSet"}
        if not contained:
            return self.registry.in_value_set
        service = terminology_with(*({**vs, "url": ref} for ref, vs in contained.items()))

        def in_value_set(value_set: str, system: str | None,
                         code: str) -> tuple[bool | None, str | None]:
            if value_set not in contained:
                return self.registry.in_value_set(value_set, system, code)
            try:
                result = service.validate_code(value_set, code, system=system)
            except FhirError as exc:
                return False, exc.message
            return bool(result["result"]), result.get("message")
        return in_value_set


def store_questionnaire(store: ResourceStore) -> FindQuestionnaire:
    """Look a Questionnaire up in the store by its canonical URL."""
    def find(url: str) -> dict[str, Any] | None:
        if url.startswith("Questionnaire/") and url.count("/") == 1:  # a literal reference
            try:
                return store.read("Questionnaire", url.partition("/")[2]).resource
            except FhirError:
                return None
        for version in store.find("Questionnaire", of(ElementIs("url", url)), limit=1):
            return version.resource
        return None
    return find


def profile_checker(settings: Settings, store: ResourceStore | None = None) -> ProfileChecker:
    """The checker an app installs (ValueError for an unusable FHIR_REQUIRED_PROFILES)."""
    registry = load_registry(identifier_systems(settings))
    return ProfileChecker(registry, settings.required_profiles,
                          store_questionnaire(store) if store is not None else None)

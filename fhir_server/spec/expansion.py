"""Expand the package's ValueSets into {system: codes} from its own CodeSystems (no server)."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

CodesBySystem = dict[str, set[str]]

_HIERARCHY_FILTERS = ("is-a", "descendent-of")


class NotExpandable(Exception):
    """The value set cannot be enumerated from the package (external or filtered content)."""


def canonical(url: str) -> str:
    """A canonical URL without its '|version' suffix."""
    return url.split("|", 1)[0]


class ValueSetExpander:
    """Enumerates the codes of ValueSets using only CodeSystems and ValueSets given to it."""

    def __init__(self, code_systems: Iterable[dict[str, Any]],
                 value_sets: Iterable[dict[str, Any]]) -> None:
        self.code_systems: dict[str, dict[str, Any]] = {cs["url"]: cs for cs in code_systems}
        self.value_sets: dict[str, dict[str, Any]] = {vs["url"]: vs for vs in value_sets}
        self._cache: dict[str, CodesBySystem] = {}

    def expand(self, url: str) -> CodesBySystem:
        """Return {system: codes} of a value set, or raise NotExpandable with the reason."""
        url = canonical(url)
        if url not in self._cache:
            value_set = self.value_sets.get(url)
            if value_set is None:
                raise NotExpandable(f"value set {url} is not in the package")
            compose = value_set.get("compose")
            if not compose:
                raise NotExpandable(f"value set {url} has no compose")
            included: CodesBySystem = {}
            for include in compose.get("include", []):
                _merge(included, self._codes_of_rule(include))
            for exclude in compose.get("exclude", []):
                for system, codes in self._codes_of_rule(exclude).items():
                    included.get(system, set()).difference_update(codes)
            self._cache[url] = {system: codes for system, codes in included.items() if codes}
        return self._cache[url]

    def expand_system(self, system: str) -> set[str]:
        """Every code of a complete code system in the package."""
        return self._codes_of_system(canonical(system), [])

    def _codes_of_rule(self, rule: Mapping[str, Any]) -> CodesBySystem:
        """The codes selected by one compose.include (or exclude) entry."""
        selected: CodesBySystem | None = None
        if "system" in rule:
            system = canonical(rule["system"])
            if "concept" in rule:
                codes = {concept["code"] for concept in rule["concept"]}
            else:
                codes = self._codes_of_system(system, rule.get("filter", []))
            selected = {system: codes}
        for imported_url in rule.get("valueSet", []):
            imported = self.expand(imported_url)
            selected = imported if selected is None else _intersect(selected, imported)
        return selected or {}

    def _codes_of_system(self, system: str, filters: list[dict[str, Any]]) -> set[str]:
        """All codes of a complete code system, narrowed by hierarchy filters."""
        code_system = self.code_systems.get(system)
        if code_system is None:
            raise NotExpandable(f"code system {system} is not in the package")
        if code_system.get("content") != "complete":
            raise NotExpandable(f"code system {system} content is {code_system.get('content')}")
        concepts = code_system.get("concept", [])
        codes = set(_all_codes(concepts))
        for rule_filter in filters:
            if rule_filter.get("property") != "concept" or rule_filter["op"] not in (
                _HIERARCHY_FILTERS
            ):
                raise NotExpandable(f"filter {rule_filter} on {system} is not supported")
            if code_system.get("hierarchyMeaning", "is-a") != "is-a":
                raise NotExpandable(f"code system {system} hierarchy is not is-a")
            below = _descendants(concepts, rule_filter["value"])
            if rule_filter["op"] == "is-a":
                below.add(rule_filter["value"])
            codes &= below
        return codes


def _all_codes(concepts: list[dict[str, Any]]) -> Iterable[str]:
    """Every code in a concept tree."""
    for concept in concepts:
        yield concept["code"]
        yield from _all_codes(concept.get("concept", []))


def _descendants(concepts: list[dict[str, Any]], code: str) -> set[str]:
    """The codes nested below `code` in a concept tree."""
    for concept in concepts:
        if concept["code"] == code:
            return set(_all_codes(concept.get("concept", [])))
        found = _descendants(concept.get("concept", []), code)
        if found:
            return found
    return set()


def _merge(into: CodesBySystem, extra: CodesBySystem) -> None:
    """Add the codes of `extra` into `into`."""
    for system, codes in extra.items():
        into.setdefault(system, set()).update(codes)


def _intersect(left: CodesBySystem, right: CodesBySystem) -> CodesBySystem:
    """The codes present in both."""
    return {system: left[system] & right[system] for system in left.keys() & right.keys()}

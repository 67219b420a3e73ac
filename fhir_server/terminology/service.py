"""The terminology service: $lookup, $validate-code, $expand and $translate as plain dicts."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from datetime import UTC, datetime
from functools import lru_cache
from pathlib import Path
from typing import Any

from fhir_server.errors import InvalidRequest, NotFound

from .expansion import Entry, compose_entries
from .store import Resource, Store, split_canonical
from .text import fold

UNMAPPED = ("unmatched", "disjoint")


class TerminologyService:
    """Pure terminology operations over the terminology/ folder plus optional extra resources."""

    def __init__(self, root: Path | None = None, extra: Iterable[Resource] = (),
                 clock: Callable[[], datetime] = lambda: datetime.now(UTC)) -> None:
        self.store = Store(root, extra)
        self.clock = clock
        self._expansions: dict[tuple[str, str], tuple[list[Entry], dict[tuple[str, str], Entry],
                                                      list[str]]] = {}
        self._maps: dict[tuple[str, str], dict[tuple[str, str], list[tuple[Resource,
                                                                           Resource]]]] = {}

    # -- CodeSystem/$lookup ------------------------------------------------------------------
    def lookup(self, system: str, code: str, version: str | None = None) -> dict[str, Any]:
        """CodeSystem/$lookup: name, version, display, definition, designations, properties."""
        if not code:
            raise InvalidRequest("$lookup needs a code")
        cs = self.store.code_system(system, version)
        concept = cs.get(code)
        if concept is None:
            raise NotFound(f"Code '{code}' is not in CodeSystem '{cs.url}'"
                           + (f" version '{cs.version}'" if cs.version else ""))
        props = [{"code": p["code"], "value": {k: v for k, v in p.items() if k != "code"}}
                 for p in concept.get("property", [])]
        real = concept["code"]
        props += [{"code": "parent", "value": {"valueCode": p}} for p in cs.parents.get(real, [])]
        props += [{"code": "child", "value": {"valueCode": c}} for c in cs.children.get(real, [])]
        out: dict[str, Any] = {
            "name": cs.resource.get("title") or cs.resource.get("name") or cs.url,
            "system": cs.url, "code": concept["code"], "display": concept.get("display", ""),
            "designation": concept.get("designation", []), "property": props}
        if cs.version:
            out["version"] = cs.version
        if concept.get("definition"):
            out["definition"] = concept["definition"]
        return out

    # -- $validate-code ----------------------------------------------------------------------
    def validate_code(self, url_or_system: str, code: str, system: str | None = None,
                      display: str | None = None, version: str | None = None) -> dict[str, Any]:
        """ValueSet/$validate-code (when the URL is a ValueSet) or CodeSystem/$validate-code."""
        if not code:
            raise InvalidRequest("$validate-code needs a code")
        if self.store.has("ValueSet", url_or_system):
            return self._validate_in_valueset(url_or_system, code, system, display)
        if not self.store.has("CodeSystem", url_or_system):
            raise NotFound(f"No ValueSet or CodeSystem with URL "
                           f"'{split_canonical(url_or_system)[0]}' is known to this server")
        cs = self.store.code_system(url_or_system, version)
        if system and system != cs.url:
            raise InvalidRequest(f"system '{system}' does not match CodeSystem '{cs.url}'")
        concept = cs.get(code)
        if concept is None:
            return self._result(False, code, cs.url, cs.version,
                                f"Unknown code '{code}' in CodeSystem '{cs.url}'")
        entry = Entry(cs.url, cs.version, concept["code"], concept.get("display"),
                      tuple((d.get("language", ""), d["value"])
                            for d in concept.get("designation", [])))
        return self._check_display(entry, display)

    def _validate_in_valueset(self, vs_url: str, code: str, system: str | None,
                              display: str | None) -> dict[str, Any]:
        vs = self.store.find("ValueSet", vs_url)
        _, index, systems = self._expansion(vs)
        if system is None:
            hits = [e for e in index.values() if e.code == code]
            if len(hits) > 1:
                raise InvalidRequest(f"Code '{code}' occurs in several systems of ValueSet "
                                     f"'{vs['url']}'; give the system")
            entry = hits[0] if hits else None
        else:
            if system not in systems and not self.store.has("CodeSystem", system):
                raise NotFound(f"No CodeSystem with URL '{system}' is known to this server")
            entry = index.get((system, code))
        if entry is None:
            where = f"'{system}#{code}'" if system else f"'{code}'"
            return self._result(False, code, system, None,
                                f"Code {where} is not in ValueSet '{vs['url']}'")
        return self._check_display(entry, display)

    def _check_display(self, entry: Entry, display: str | None) -> dict[str, Any]:
        valid = [entry.display or "", *(v for _, v in entry.designation)]
        if display and fold(display) not in {fold(v) for v in valid if v}:
            return self._result(False, entry.code, entry.system, entry.version,
                                f"Display '{display}' is not a valid display for code "
                                f"'{entry.code}' (expected '{entry.display}')", entry.display)
        return self._result(True, entry.code, entry.system, entry.version, None, entry.display)

    @staticmethod
    def _result(ok: bool, code: str, system: str | None, version: str | None,
                message: str | None, display: str | None = None) -> dict[str, Any]:
        out: dict[str, Any] = {"result": ok, "code": code}
        for key, value in (("system", system), ("version", version), ("message", message),
                           ("display", display)):
            if value:
                out[key] = value
        return out

    # -- ValueSet/$expand --------------------------------------------------------------------
    def _expansion(self, vs: Resource) -> tuple[list[Entry], dict[tuple[str, str], Entry],
                                                 list[str]]:
        key = (vs["url"], vs.get("version") or "")
        if key not in self._expansions:
            index = compose_entries(self.store, vs)
            entries = list(index.values())
            self._expansions[key] = (entries, index, [e.searchable() for e in entries])
        entries, index, _ = self._expansions[key]
        return entries, index, sorted({e.system for e in entries})

    def expand(self, valueset_url: str, filter: str | None = None,  # noqa: A002
               count: int | None = None, offset: int = 0) -> dict[str, Any]:
        """ValueSet/$expand: filter (accent/case-insensitive substring of display or designation),
        count and offset paging; total is the filtered size."""
        if (count is not None and count < 0) or offset < 0:
            raise InvalidRequest("count and offset must not be negative")
        vs = self.store.find("ValueSet", valueset_url)
        entries, _, _ = self._expansion(vs)
        folded = self._expansions[(vs["url"], vs.get("version") or "")][2]
        if filter:
            needle = fold(filter)
            squashed = needle.replace(" ", "")
            entries = [e for e, text in zip(entries, folded, strict=True)
                       if needle in text or squashed in text.replace(" ", "")]
        page = entries[offset:] if count is None else entries[offset:offset + count]
        params: list[dict[str, Any]] = []
        if filter:
            params.append({"name": "filter", "valueString": filter})
        if count is not None:
            params.append({"name": "count", "valueInteger": count})
        if offset:
            params.append({"name": "offset", "valueInteger": offset})
        expansion: dict[str, Any] = {
            "timestamp": self.clock().isoformat(timespec="seconds"), "total": len(entries),
            "offset": offset}
        if params:
            expansion["parameter"] = params
        if page:
            expansion["contains"] = [e.to_contains() for e in page]
        out = {k: v for k, v in vs.items() if k not in ("text", "expansion")}
        out["expansion"] = expansion
        return out

    # -- ConceptMap/$translate ---------------------------------------------------------------
    def _concept_maps(self, url_or_source: str) -> list[Resource]:
        if self.store.has("ConceptMap", url_or_source):
            return [self.store.find("ConceptMap", url_or_source)]
        url = split_canonical(url_or_source)[0]
        found = [cm for cm in self.store.all("ConceptMap")
                 if url in (cm.get("sourceUri"), cm.get("sourceCanonical"))
                 or any(g.get("source") == url for g in cm.get("group", []))]
        if not found:
            raise NotFound(f"No ConceptMap with URL or source '{url}' is known to this server")
        return sorted(found, key=lambda cm: str(cm["url"]))

    def _map_index(self, cm: Resource) -> dict[tuple[str, str], list[tuple[Resource, Resource]]]:
        key = (cm["url"], cm.get("version") or "")
        if key not in self._maps:
            index: dict[tuple[str, str], list[tuple[Resource, Resource]]] = {}
            for group in cm.get("group", []):
                for element in group.get("element", []):
                    index.setdefault((group.get("source", ""), element["code"]), []).append(
                        (group, element))
            self._maps[key] = index
        return self._maps[key]

    def translate(self, conceptmap_url_or_source: str, system: str,
                  code: str) -> dict[str, Any]:
        """ConceptMap/$translate: the targets of system#code in the map(s) named or sourced."""
        if not code or not system:
            raise InvalidRequest("$translate needs a system and a code")
        matches: list[dict[str, Any]] = []
        sources = set()
        for cm in self._concept_maps(conceptmap_url_or_source):
            sources |= {g.get("source") for g in cm.get("group", [])}
            for group, element in self._map_index(cm).get((system, code), []):
                for target in element.get("target", []):
                    matches.append(self._match(cm, group, target))
        if system not in sources:
            listed = ", ".join(sorted(map(str, sources)))
            return {"result": False, "match": [], "message": f"System '{system}' is not a source "
                    f"of ConceptMap '{conceptmap_url_or_source}' (sources: {listed})"}
        if not matches:
            known = self.store.has("CodeSystem", system) and (
                self.store.code_system(system).get(code) is not None)
            why = "" if known or not self.store.has("CodeSystem", system) else (
                f" (code '{code}' is not in CodeSystem '{system}')")
            return {"result": False, "match": [], "message": f"No mapping for code '{code}' of "
                    f"'{system}' in ConceptMap '{conceptmap_url_or_source}'{why}"}
        ok = any(m["equivalence"] not in UNMAPPED for m in matches)
        out: dict[str, Any] = {"result": ok, "match": matches}
        if not ok:
            out["message"] = f"Code '{code}' of '{system}' has no equivalent target"
        return out

    @staticmethod
    def _match(cm: Resource, group: Resource, target: Resource) -> dict[str, Any]:
        match: dict[str, Any] = {"equivalence": target.get("equivalence", "equivalent"),
                                 "source": cm["url"]}
        if target.get("code"):
            coding = {"system": group.get("target"), "version": group.get("targetVersion"),
                      "code": target["code"], "display": target.get("display")}
            match["concept"] = {k: v for k, v in coding.items() if v}
        if target.get("comment"):
            match["comment"] = target["comment"]
        return match


@lru_cache(maxsize=1)
def get_service() -> TerminologyService:
    """The process-wide service over the repository's terminology/ folder (loaded lazily)."""
    return TerminologyService()


def lookup(system: str, code: str, version: str | None = None) -> dict[str, Any]:
    """CodeSystem/$lookup on the default service."""
    return get_service().lookup(system, code, version)


def validate_code(url_or_system: str, code: str, system: str | None = None,
                  display: str | None = None) -> dict[str, Any]:
    """ValueSet/ or CodeSystem/$validate-code on the default service."""
    return get_service().validate_code(url_or_system, code, system, display)


def expand(valueset_url: str, filter: str | None = None,  # noqa: A002
           count: int | None = None, offset: int = 0) -> dict[str, Any]:
    """ValueSet/$expand on the default service."""
    return get_service().expand(valueset_url, filter, count, offset)


def translate(conceptmap_url_or_source: str, system: str, code: str) -> dict[str, Any]:
    """ConceptMap/$translate on the default service."""
    return get_service().translate(conceptmap_url_or_source, system, code)

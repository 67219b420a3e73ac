"""Loader-side rewrites of incoming Bundles (the import CLI's --dedupe and --skip-unsupported).

--dedupe: senders such as Synthea POST the same Organization and Practitioner in every Bundle.
  A sender avoids duplicates by making those entries conditional creates on their identifier
  (FHIR R4 http.html#ccreate): `request.ifNoneExist = "identifier=<system>|<value>"`. The
  transaction then finds the existing resource, and the entries' placeholders resolve to it.
  `dedupe_entries` does that rewrite for senders that do not.
--skip-unsupported: entries of resource types this server does not store are dropped, and the
  references that pointed at them (e.g. Immunization.encounter -> an Encounter entry) removed.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlencode

from fhir_server.resource_types import is_supported

DEDUPE_TYPES = ("Organization", "Practitioner")


def identifier_criteria(resource: dict[str, Any]) -> str | None:
    """'identifier=system|value' for the first identifier with both, else None."""
    for identifier in resource.get("identifier") or []:
        if isinstance(identifier, dict) and identifier.get("system") and identifier.get("value"):
            return urlencode([("identifier", f"{identifier['system']}|{identifier['value']}")])
    return None


def dedupe_entries(bundle: dict[str, Any], types: tuple[str, ...] = DEDUPE_TYPES) -> int:
    """Turn plain POSTs of these types into conditional creates by identifier (in place);
    return how many entries were changed."""
    changed = 0
    for entry in bundle.get("entry") or []:
        request, resource = entry.get("request") or {}, entry.get("resource") or {}
        if (request.get("method") == "POST" and resource.get("resourceType") in types
                and not request.get("ifNoneExist")):
            criteria = identifier_criteria(resource)
            if criteria is not None:
                request["ifNoneExist"] = criteria
                changed += 1
    return changed


@dataclass
class Skipped:
    """What skip_unsupported removed: entries by type, and references to them."""

    types: Counter[str] = field(default_factory=Counter)
    references: int = 0

    def add(self, other: Skipped) -> None:
        """Accumulate another Bundle's counts."""
        self.types.update(other.types)
        self.references += other.references


def _type_of(entry: dict[str, Any]) -> str:
    resource = entry.get("resource")
    if isinstance(resource, dict) and isinstance(resource.get("resourceType"), str):
        return str(resource["resourceType"])
    url = str((entry.get("request") or {}).get("url", ""))
    return url.split("?", 1)[0].split("/", 1)[0]


def _strip(node: Any, dropped: set[str], skipped: Skipped) -> Any:
    """The node without the Reference elements that point at dropped entries."""
    if isinstance(node, dict):
        out = {}
        for key, value in node.items():
            if isinstance(value, dict) and value.get("reference") in dropped:
                skipped.references += 1
                continue
            out[key] = _strip(value, dropped, skipped)
        return out
    if isinstance(node, list):
        kept = []
        for item in node:
            if isinstance(item, dict) and item.get("reference") in dropped:
                skipped.references += 1
                continue
            kept.append(_strip(item, dropped, skipped))
        return kept
    return node


def skip_unsupported(bundle: dict[str, Any]) -> tuple[dict[str, Any], Skipped]:
    """The Bundle without entries of unsupported types (and references to them)."""
    skipped = Skipped()
    kept, dropped = [], set()
    for entry in bundle.get("entry") or []:
        type_name = _type_of(entry) if isinstance(entry, dict) else ""
        if isinstance(entry, dict) and type_name and type_name != "_history" and not (
                is_supported(type_name)):
            skipped.types[type_name] += 1
            if entry.get("fullUrl"):
                dropped.add(entry["fullUrl"])
        else:
            kept.append(entry)
    if not skipped.types:
        return bundle, skipped
    if dropped:
        kept = [_strip(entry, dropped, skipped) for entry in kept]
    return {**bundle, "entry": kept}, skipped

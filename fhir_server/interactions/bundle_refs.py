"""Resolve references inside a transaction (FHIR R4 bundle.html#references, http.html#trules).

- `urn:uuid:` / `urn:oid:` placeholders and other fullUrls of the Bundle's entries become the
  `Type/id` the server gave (or found for) that entry, in every Reference.reference at any depth
  (contained resources, extensions, backbone elements) and in narrative links (href/src);
- conditional references (`Patient?identifier=s|v`) become the one resource they match;
- a placeholder that names no entry is a broken reference (400, pointing at the element).

Rewriting is copy-on-write: the request Bundle is never changed, so a retried transaction starts
again from the client's content.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from typing import Any

from fhir_server.errors import FhirError, InvalidRequest
from fhir_server.interactions.bundle_parse import is_placeholder

Path = tuple[str | int, ...]
ConditionalResolver = Callable[[str], str]
_CONDITIONAL = re.compile(r"[A-Z][A-Za-z]{1,63}\?.+", re.DOTALL)
_NARRATIVE_LINK = re.compile(r'(?<=")urn:(?:uuid|oid):[^"\s]+(?=")')


def is_conditional(reference: str) -> bool:
    """True for a conditional reference ('Type?search-params')."""
    return _CONDITIONAL.fullmatch(reference) is not None


def fhirpath(root: str, path: Path) -> str:
    """('name', 0, 'family') under 'X' -> 'X.name[0].family'."""
    text = root
    for part in path:
        text += f"[{part}]" if isinstance(part, int) else f".{part}"
    return text


def reference_strings(node: Any) -> Iterator[str]:
    """Every Reference.reference string, and every placeholder linked from narrative."""
    if isinstance(node, dict):
        for key, value in node.items():
            if key == "reference" and isinstance(value, str):
                yield value
            elif key == "div" and isinstance(value, str) and "urn:" in value:
                yield from _NARRATIVE_LINK.findall(value)
            elif isinstance(value, (dict, list)):
                yield from reference_strings(value)
    elif isinstance(node, list):
        for item in node:
            if isinstance(item, (dict, list)):
                yield from reference_strings(item)


class ReferenceMap:
    """fullUrl -> 'Type/id' of the Bundle's entries, and the rewriting of references."""

    def __init__(self, base_url: str, conditional: ConditionalResolver | None = None) -> None:
        self.base_url = base_url
        self.targets: dict[str, str] = {}
        self.conditional = conditional
        self._conditional_memo: dict[str, str] = {}

    def add(self, full_url: str | None, type_name: str, resource_id: str) -> None:
        """Record that the entry with this fullUrl is (or will be) Type/id."""
        if full_url:
            self.targets[full_url] = f"{type_name}/{resource_id}"

    def resolve_url(self, text: str) -> str:
        """Replace placeholders known so far inside a request URL or search criteria."""
        if "urn:" not in text:
            return text
        for full_url, target in self.targets.items():
            if is_placeholder(full_url) and full_url in text:
                text = text.replace(full_url, target)
        return text

    def rewrite(self, resource: dict[str, Any], where: str) -> dict[str, Any]:
        """The resource with every resolvable reference replaced (the input is not changed);
        `where` roots the FHIRPath of errors (e.g. 'Bundle.entry[3].resource')."""
        rewritten = self._node(resource, (), where)
        assert isinstance(rewritten, dict)
        return rewritten

    def _node(self, node: Any, path: Path, where: str) -> Any:
        if isinstance(node, dict):
            changed: dict[str, Any] | None = None
            for key, value in node.items():
                if key == "reference" and isinstance(value, str):
                    new = self._reference(value, (*path, key), where)
                elif key == "div" and isinstance(value, str) and "urn:" in value:
                    new = _NARRATIVE_LINK.sub(lambda m: self.targets.get(m.group(0), m.group(0)),
                                              value)
                elif isinstance(value, (dict, list)):
                    new = self._node(value, (*path, key), where)
                else:
                    continue
                if new is not value and not (isinstance(new, str) and new == value):
                    changed = changed if changed is not None else dict(node)
                    changed[key] = new
            return changed if changed is not None else node
        if isinstance(node, list):
            items: list[Any] | None = None
            for index, item in enumerate(node):
                if not isinstance(item, (dict, list)):
                    continue
                new = self._node(item, (*path, index), where)
                if new is not item:
                    items = items if items is not None else list(node)
                    items[index] = new
            return items if items is not None else node
        return node

    def _reference(self, value: str, path: Path, where: str) -> str:
        target = self.targets.get(value)
        if target is not None:
            return target
        if is_placeholder(value):
            raise InvalidRequest.at(
                f"{fhirpath(where, path)}: '{value[:100]}' names no entry of this Bundle "
                "(broken reference)", fhirpath(where, path), "not-found")
        if self.conditional is not None and is_conditional(value):
            return self._resolve_conditional(value, path, where)
        return value

    def _resolve_conditional(self, value: str, path: Path, where: str) -> str:
        found = self._conditional_memo.get(value)
        if found is not None:
            return found
        assert self.conditional is not None
        try:
            found = self.conditional(self.resolve_url(value))
        except FhirError as error:
            expression = fhirpath(where, path)
            failure = FhirError(f"{expression}: conditional reference '{value[:100]}': "
                                f"{error.message}", status=error.status, code=error.code)
            failure.issues = [type(issue)(issue.code, f"{expression}: {issue.diagnostics}",
                                          issue.severity, (expression,))
                              for issue in error.issues]
            raise failure from None
        self._conditional_memo[value] = found
        return found

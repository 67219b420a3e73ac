"""Base structural checks that fhir.resources (pydantic) skips, in one walk over the JSON.

Run after a successful fhir.resources parse of the same JSON:
- no null, "", {} or [] anywhere (http://hl7.org/fhir/R4/json.html), except the nulls that
  pair a primitive array with its `_name` extension array;
- codes of required bindings are in their value set (wherever the data type appears);
- literal references point to a FHIR resource type the element allows;
- contained resources get the same checks.
"""

from __future__ import annotations

import re
from typing import Any

from fhir_server.errors import Issue
from fhir_server.validation.schema import PropertyRule, Schema, load_schema

_RELATIVE_REFERENCE = re.compile(
    r"([A-Za-z][A-Za-z0-9]*)/[A-Za-z0-9\-.]{1,64}(?:/_history/[A-Za-z0-9\-.]{1,64})?")
_ABSOLUTE_REFERENCE = re.compile(
    r"[a-z][a-z0-9+.\-]*://.*/([A-Z][A-Za-z]*)/[A-Za-z0-9\-.]{1,64}"
    r"(?:/_history/[A-Za-z0-9\-.]{1,64})?")
_CONDITIONAL_REFERENCE = re.compile(r"([A-Za-z][A-Za-z0-9]*)\?.*", re.DOTALL)
_PROFILE_PREFIX = "http://hl7.org/fhir/StructureDefinition/"
_EXTENSION_KEYS = frozenset({"extension", "modifierExtension"})


def check_structure(resource: dict[str, Any]) -> list[Issue]:
    """Issues (severity error) for the base rules a parsed resource's JSON still breaks."""
    issues: list[Issue] = []
    resource_type = resource.get("resourceType")
    root = resource_type if isinstance(resource_type, str) and resource_type else "Resource"
    _Walker(load_schema(), issues).resource(resource, root)
    return issues


class _Walker:
    """One pass over a resource, appending issues as it goes."""

    __slots__ = ("schema", "issues")

    def __init__(self, schema: Schema, issues: list[Issue]) -> None:
        self.schema = schema
        self.issues = issues

    def resource(self, resource: dict[str, Any], path: str) -> None:
        """Check a (top-level or contained) resource against the rules of its type."""
        resource_type = resource.get("resourceType")
        if isinstance(resource_type, str):
            self.object(resource, self.schema.rules_by_type.get(resource_type), path)
        else:
            self.object(resource, None, path)

    def object(self, node: dict[str, Any], rules: dict[str, PropertyRule] | None,
               path: str) -> None:
        """Check every property of a JSON object typed by `rules` (None: type unknown)."""
        if not node:
            self._report("structure", "Empty objects are not allowed", path)
            return
        for key, value in node.items():
            rule = rules.get(key) if rules is not None else None
            if isinstance(value, list):
                if not value:
                    self._report("structure", "Empty arrays are not allowed", f"{path}.{key}")
                    continue
                for index, item in enumerate(value):
                    if item is None:
                        if not _null_is_paired(node, key, index):
                            self._report("structure", "Null values are not allowed",
                                         f"{path}.{key}[{index}]")
                    else:
                        self.value(item, key, rule, f"{path}.{key}[{index}]")
            elif value is None:
                self._report("structure", "Null values are not allowed", f"{path}.{key}")
            else:
                self.value(value, key, rule, f"{path}.{key}")

    def value(self, value: Any, key: str, rule: PropertyRule | None, path: str) -> None:
        """Check one property value (an array item or a single value)."""
        if isinstance(value, str):
            if not value:
                self._report("structure", "Empty strings are not allowed", path)
            elif rule is not None and rule.codes is not None and value not in rule.codes:
                self._report("code-invalid", f"Code '{value}' is not in the required value set "
                             f"{rule.value_set}", path)
        elif isinstance(value, dict):
            if rule is None:
                if key in _EXTENSION_KEYS:
                    self.object(value, self.schema.extension_rules, path)
                elif key.startswith("_"):
                    self.object(value, self.schema.element_rules, path)
                elif "resourceType" in value:
                    self.resource(value, path)
                else:
                    self.object(value, None, path)
            elif rule.is_resource:
                self.resource(value, path)
            else:
                if rule.is_coded:
                    self._coded(value, rule, path)
                elif rule.is_reference:
                    self._reference(value, rule, path)
                self.object(value, rule.children, path)

    def _coded(self, value: dict[str, Any], rule: PropertyRule, path: str) -> None:
        """A Coding or CodeableConcept bound (required) to a value set."""
        codes_by_system = rule.codes_by_system or {}
        if rule.type_key == "Coding":
            system, code = value.get("system"), value.get("code")
            if isinstance(system, str) and system not in codes_by_system:
                self._report("code-invalid", f"System '{system}' is not in the required value "
                             f"set {rule.value_set}", f"{path}.system")
            elif isinstance(code, str) and code and code not in (
                    codes_by_system[system] if system else (rule.codes or ())):
                self._report("code-invalid", f"Code '{code}' is not in the required value set "
                             f"{rule.value_set}", f"{path}.code")
            return
        codings = value.get("coding")
        for index, coding in enumerate(codings if isinstance(codings, list) else ()):
            if not isinstance(coding, dict):
                continue
            system, code = coding.get("system"), coding.get("code")
            allowed = codes_by_system.get(system) if isinstance(system, str) else None
            if allowed is not None and isinstance(code, str) and code and code not in allowed:
                self._report("code-invalid", f"Code '{code}' is not in the required value set "
                             f"{rule.value_set}", f"{path}.coding[{index}].code")

    def _reference(self, value: dict[str, Any], rule: PropertyRule, path: str) -> None:
        """A Reference whose literal reference (and type) must name an allowed resource type."""
        reference = value.get("reference")
        named: str | None = None
        if isinstance(reference, str) and reference:
            named = self._type_of_reference(reference, f"{path}.reference")
            if named is not None:
                self._check_target(named, rule, f"{path}.reference")
        declared = value.get("type")
        if isinstance(declared, str) and declared:
            declared = declared.removeprefix(_PROFILE_PREFIX)
            if declared in self.schema.resource_types:
                if named is not None and named != declared:
                    self._report("invalid", f"Reference type '{declared}' does not match the "
                                 f"reference to {named}", f"{path}.type")
                elif named is None:
                    self._check_target(declared, rule, f"{path}.type")

    def _type_of_reference(self, reference: str, path: str) -> str | None:
        """The resource type a literal reference names; report it when it is not one."""
        if reference[0] == "#" or reference.startswith(("urn:uuid:", "urn:oid:")):
            return None
        matched = _RELATIVE_REFERENCE.fullmatch(reference) or _CONDITIONAL_REFERENCE.fullmatch(
            reference)
        if matched is not None:
            named = matched.group(1)
            if named in self.schema.resource_types:
                return named
            self._report("invalid", f"'{named}' is not a FHIR resource type", path)
            return None
        absolute = _ABSOLUTE_REFERENCE.fullmatch(reference)
        if absolute is not None and absolute.group(1) in self.schema.resource_types:
            return absolute.group(1)
        if ":" not in reference:  # not a URL or URN, so it had to be Type/id (references.html)
            self._report("invalid", f"'{reference[:80]}' is not a valid reference: expected "
                         "Type/id (id: 1-64 of A-Z a-z 0-9 - .), an absolute URL or a URN", path)
        return None

    def _check_target(self, named: str, rule: PropertyRule, path: str) -> None:
        """Report a reference to a resource type the element does not allow."""
        if rule.targets is not None and named not in rule.targets:
            allowed = ", ".join(sorted(rule.targets))
            self._report("invalid", f"A reference to {named} is not allowed here "
                         f"(allowed: {allowed})", path)

    def _report(self, code: str, text: str, path: str) -> None:
        """Record one error."""
        self.issues.append(Issue(code, text, expression=(path,)))


def _null_is_paired(node: dict[str, Any], key: str, index: int) -> bool:
    """True when a null array item stands opposite a value in its `_name`/`name` twin array."""
    twin = node.get(key[1:] if key.startswith("_") else f"_{key}")
    return isinstance(twin, list) and index < len(twin) and twin[index] is not None

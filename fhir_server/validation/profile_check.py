"""Check a resource (JSON, already valid FHIR R4) against a compiled profile.

One walk over the elements the profile constrains, reporting OperationOutcome issues with the
FHIRPath location of the offending element (validation.html, elementdefinition.html):
cardinality (min -> `required`, max -> `structure`), choice types (`structure`), fixed and
pattern values (`value`), required bindings (error) and extensible bindings (warning)
(`code-invalid`), Reference targets (`invalid`), invariants (`invariant`, the constraint's own
severity) and custom rules (`business-rule`), and extension slices against their profiles.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from functools import lru_cache
from typing import Any

from fhir_server.errors import FhirError, Issue
from fhir_server.terminology import TerminologyService
from fhir_server.validation.custom_rules import RULES, RuleContext
from fhir_server.validation.fhirpath import EvaluationError, environment
from fhir_server.validation.profile_compile import (
    CompiledProfile,
    Constraint,
    ElementRule,
    Slice,
)

_REFERENCE = re.compile(r"(?:.*/)?([A-Z][A-Za-z]+)/[A-Za-z0-9\-.]{1,64}(?:/_history/.*)?")


def matches_pattern(value: Any, pattern: Any) -> bool:
    """FHIR pattern[x] semantics: every property of the pattern is present and matches."""
    if isinstance(pattern, dict):
        return isinstance(value, dict) and all(
            key in value and matches_pattern(value[key], item) for key, item in pattern.items())
    if isinstance(pattern, list):
        values = value if isinstance(value, list) else [value]
        return all(any(matches_pattern(v, item) for v in values) for item in pattern)
    return bool(value == pattern) and isinstance(value, bool) == isinstance(pattern, bool)


class ProfileValidator:
    """Validates instances against compiled profiles (terminology and custom rules injected)."""

    def __init__(self, terminology: TerminologyService,
                 profile: Callable[[str], CompiledProfile | None], context: RuleContext) -> None:
        self.terminology = terminology
        self.profile = profile
        self.context = context
        self.member = lru_cache(maxsize=16384)(self._member)

    def validate(self, instance: dict[str, Any], profile: CompiledProfile,
                 path: str | None = None, resource: dict[str, Any] | None = None
                 ) -> list[Issue]:
        """Issues of a resource (or of an element at `path` of `resource`) against a profile."""
        issues: list[Issue] = []
        root = resource or instance
        _Run(self, root, profile, issues, environment(root)).element(instance, profile.root,
                                                                     path or profile.type)
        return issues

    def _member(self, value_set: str, system: str | None,
                code: str) -> tuple[bool | None, str | None]:
        """Is system#code in the value set? None when the value set is unknown (not checked)."""
        if not self.terminology.store.has("ValueSet", value_set):
            return None, f"ValueSet {value_set} is unknown to this server"
        try:
            result = self.terminology.validate_code(value_set, code, system=system)
        except FhirError as exc:
            return False, exc.message
        return bool(result["result"]), result.get("message")


class _Run:
    """One validation of one instance; issues accumulate in `issues`."""

    __slots__ = ("validator", "resource", "profile", "issues", "env")

    def __init__(self, validator: ProfileValidator, resource: dict[str, Any],
                 profile: CompiledProfile, issues: list[Issue], env: dict[str, Any]) -> None:
        self.validator = validator
        self.resource = resource
        self.profile = profile
        self.issues = issues
        self.env = env  # FHIRPath variables (%resource) shared by every evaluation

    def report(self, code: str, text: str, path: str, severity: str = "error") -> None:
        """Record one issue."""
        self.issues.append(Issue(code, f"{text} (profile {self.profile.url})", severity,
                                 (path,)))

    def element(self, value: Any, rule: ElementRule, path: str) -> None:
        """Check one instance of an element, then its constrained children."""
        if rule.fixed is not None and value != rule.fixed:
            self.report("value", f"Value must be exactly {json.dumps(rule.fixed)}", path)
        if rule.pattern is not None and not matches_pattern(value, rule.pattern):
            self.report("value", f"Value must match the pattern {json.dumps(rule.pattern)}",
                        path)
        if rule.binding is not None:
            self.binding(value, rule, path)
        if rule.targets is not None and isinstance(value, dict):
            self.target(value, rule.targets, path)
        for constraint in rule.constraints:
            if constraint.rule is not None:
                self.issues.extend(RULES[constraint.rule](value, self.resource, path,
                                                          self.validator.context))
                continue
            self.invariant(constraint, value, path)
        if isinstance(value, dict):
            for child in rule.children:
                self.child(value, child, path)

    def invariant(self, constraint: Constraint, value: Any, path: str) -> None:
        """Evaluate one FHIRPath invariant on an element (fast path, else fhirpathpy)."""
        assert constraint.path is not None
        try:
            try:
                fast = constraint.path.fast
                ok = fast is not None and fast([value], self.env) == [True]
            except EvaluationError:
                fast = None
            if fast is None:
                ok = constraint.path.holds(value, self.resource, self.env)
        except EvaluationError as exc:
            self.report("invariant", f"Constraint {constraint.key} could not be evaluated: "
                        f"{exc}", path)
            return
        if not ok:
            self.report("invariant", f"Constraint {constraint.key} failed: {constraint.human}",
                        path, constraint.severity)

    def child(self, node: dict[str, Any], rule: ElementRule, path: str) -> None:
        """Check the values of one child element of a JSON object."""
        found: list[tuple[str, Any]] = []
        if rule.choice_keys is None:
            value = node.get(rule.name)
            if value is not None:
                found.append((rule.name, value))
        else:
            self.choices(node, rule, path, found)
        if rule.cardinality is not None:
            self.cardinality(found, rule, path)
        if rule.slices:
            self.slices([(f"{path}.{key}[{i}]", v) for key, value in found
                         for i, v in enumerate(value)], rule.slices, f"{path}.{rule.name}")
        for key, value in found:
            if isinstance(value, list):
                for index, item in enumerate(value):
                    self.element(item, rule, f"{path}.{key}[{index}]")
            else:
                self.element(value, rule, f"{path}.{key}")

    def choices(self, node: dict[str, Any], rule: ElementRule, path: str,
                found: list[tuple[str, Any]]) -> None:
        """Collect the values of a choice element; report types the profile does not allow."""
        assert rule.choice_keys is not None
        size = len(rule.name)
        for key, value in node.items():
            if key.startswith(rule.name) and key[size:size + 1].isupper():
                found.append((key, value))
                if key not in rule.choice_keys:
                    allowed = ", ".join(sorted(rule.choice_keys))
                    self.report("structure", f"{key} is not allowed here (allowed: "
                                f"{allowed})", f"{path}.{key}")

    def cardinality(self, found: list[tuple[str, Any]], rule: ElementRule, path: str) -> None:
        """min -> `required`, max -> `structure`."""
        assert rule.cardinality is not None
        low, high = rule.cardinality
        count = 0
        for _, value in found:
            count += len(value) if isinstance(value, list) else 1
        if count < low:
            self.report("required", f"{rule.path}: minimum required = {low}, but only found "
                        f"{count}", f"{path}.{found[0][0] if found else rule.name}")
        elif high is not None and count > high:
            self.report("structure", f"{rule.path}: maximum allowed = {high}, but found "
                        f"{count}", f"{path}.{found[0][0]}")

    def slices(self, items: list[tuple[str, Any]], slices: list[Slice], path: str) -> None:
        """Extension slices: cardinality per URL, and each extension against its profile."""
        for slice_ in slices:
            matched = [(p, v) for p, v in items if isinstance(v, dict) and v.get("url")
                       == slice_.url]
            if len(matched) < slice_.min:
                self.report("required", f"Extension {slice_.url} ({slice_.name}) is required",
                            path)
            elif slice_.max is not None and len(matched) > slice_.max:
                self.report("structure", f"Extension {slice_.url} ({slice_.name}) may occur "
                            f"at most {slice_.max} times", path)
            extension = self.validator.profile(slice_.url)
            if extension is None:
                self.report("not-found", f"Extension profile {slice_.url} is unknown", path,
                            "warning")
                continue
            run = _Run(self.validator, self.resource, extension, self.issues, self.env)
            for item_path, item in matched:
                run.element(item, extension.root, item_path)

    def binding(self, value: Any, rule: ElementRule, path: str) -> None:
        """Required (error) / extensible (warning) binding to the rule's value set."""
        assert rule.binding is not None
        strength, value_set = rule.binding
        kind = rule.type_code or ("CodeableConcept" if "coding" in value or "text" in value
                                  else "Coding") if isinstance(value, dict) else "code"
        codings: list[tuple[str | None, Any, str]]
        if isinstance(value, str):
            codings = [(None, value, path)]
        elif not isinstance(value, dict):
            return
        elif kind == "CodeableConcept":
            codings = [(c.get("system"), c.get("code"), f"{path}.coding[{i}]")
                       for i, c in enumerate(value.get("coding", [])) if isinstance(c, dict)]
        else:
            codings = [(value.get("system"), value.get("code"), path)]
        codings = [c for c in codings if isinstance(c[1], str)]
        if not codings:
            if strength == "required":
                self.report("code-invalid", f"A code from the required value set {value_set} "
                            "is needed", path)
            return
        results = [(self.validator.member(value_set, s, c), p, s, c) for s, c, p in codings]
        if any(ok is not False for (ok, _), _, _, _ in results):
            return
        (_, message), where, system, code = results[0]
        shown = f"{system}#{code}" if system else code
        severity = "error" if strength == "required" else "warning"
        self.report("code-invalid", f"Code '{shown}' is not in the {strength} value set "
                    f"{value_set}" + (f": {message}" if message else ""),
                    where if len(results) == 1 else path, severity)

    def target(self, reference: dict[str, Any], targets: frozenset[str], path: str) -> None:
        """A Reference must point to one of the allowed resource types."""
        literal = reference.get("reference")
        named = None
        if isinstance(literal, str) and not literal.startswith(("#", "urn:")):
            matched = _REFERENCE.fullmatch(literal)
            named = matched.group(1) if matched else None
        declared = reference.get("type")
        named = named or (declared if isinstance(declared, str) else None)
        if named is not None and named not in targets:
            allowed = ", ".join(sorted(targets))
            self.report("invalid", f"A reference to {named} is not allowed here (allowed: "
                        f"{allowed})", f"{path}.reference" if literal else f"{path}.type")

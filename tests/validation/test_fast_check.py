"""The validation fast path answers exactly as the reference path (fhir.resources R4B).

fast_check.certainly_valid may say "valid" only where fhir.resources' model_validate accepts;
validate_resource then skips the model. On every corpus the outcome of validate_resource
(accepted, or the error's class, status, code, message and every issue's severity, code,
expression and diagnostics) equals the reference path's (fast_path=False): the official R4
examples (downloads.html: valid R4 content, a few known defects), 58 Synthea bundles, the
bad-input corpus bodies (json.html, datatypes.html, references.html, bundle.html) and
mutations of valid resources (json.html#primitive types, datatypes.html formats, empty and
null values, unknown elements, cardinality, formats.html#choice suffixes, extensibility.html
`_name` siblings, references.html#contained).
"""

from __future__ import annotations

import json
import re
from typing import Any

import pytest

from fhir_server.validation.fast_check import certainly_valid
from tests.conftest import DATA
from tests.validation.fast_differential import compare, examples, mutations, synthea

SIZE = 1500  # characters of JSON of a resource to mutate (see _mutated)


def _check_all(resources: list[tuple[str, Any]], full: bool = True
               ) -> tuple[int, dict[str, str]]:
    """How many took the fast path, and the differences by name."""
    taken, differences = 0, {}
    for name, data in resources:
        fast, difference = compare(data, full)
        taken += fast
        if difference is not None:
            differences[name] = difference
    return taken, differences


def test_synthea_takes_the_fast_path_with_the_same_verdicts() -> None:
    resources = synthea()
    if not resources:
        pytest.skip("no Synthea data")
    taken, differences = _check_all([(str(i), r) for i, r in enumerate(resources)])
    assert differences == {}
    assert len(resources) > 7000 and taken == len(resources)  # every Synthea resource is valid


@pytest.mark.examples
def test_official_examples_same_verdicts_and_errors() -> None:
    # downloads.html: the examples are valid R4 (the few the reference rejects stay rejected)
    found = examples()
    taken, differences = _check_all(found, full=False)
    assert differences == {}
    assert len(found) > 2500 and taken > 0.9 * len(found)


def _expand(text: str) -> str:
    """${c*N} -> c repeated N times, as in tests/api/test_bad_input_corpus.py."""
    return re.sub(r"\$\{(.+?)\*(\d+)\}", lambda m: m[1] * int(m[2]), text)


def _corpus_bodies() -> list[tuple[str, Any]]:
    """Every JSON body of the bad-input corpus, and each resource of the bundles among them."""
    bodies: list[tuple[str, Any]] = []
    for entry in json.loads((DATA / "bad_input_corpus.json").read_text("utf-8"))["entries"]:
        if "body" in entry:
            body = json.loads(_expand(json.dumps(entry["body"])))
        else:
            try:
                body = json.loads(_expand(entry.get("raw", "")))
            except (ValueError, RecursionError):  # not JSON, or nested past the parser
                continue
        bodies.append((entry["name"], body))
        for index, item in enumerate(body.get("entry", []) if isinstance(body, dict) else []):
            if isinstance(item, dict) and "resource" in item:
                bodies.append((f"{entry['name']} entry {index}", item["resource"]))
    return bodies


def test_bad_input_corpus_same_errors() -> None:
    bodies = _corpus_bodies()
    taken, differences = _check_all(bodies)
    assert differences == {}
    assert len(bodies) > 30 and 0 < taken < len(bodies)


def _mutated(resources: list[dict[str, Any]], positions: int = 10) -> list[tuple[str, Any]]:
    """The mutations of one resource per type: the smallest of at least SIZE characters of
    JSON (else the largest), so that each type's elements are there but none is huge."""
    chosen: dict[str, tuple[int, dict[str, Any]]] = {}
    for resource in resources:
        size = len(json.dumps(resource))
        kind = resource["resourceType"]
        best = chosen.get(kind)
        if best is None or (size >= SIZE and (best[0] < SIZE or size < best[0])) or (
                best[0] < SIZE and size > best[0]):
            chosen[kind] = (size, resource)
    return [(f"{kind} {label}", mutated) for kind, (_size, resource) in sorted(chosen.items())
            for label, mutated in mutations(resource, positions)]


def test_mutations_of_synthea_same_verdicts_and_errors() -> None:
    resources = synthea()
    if not resources:
        pytest.skip("no Synthea data")
    cases = _mutated(resources)
    taken, differences = _check_all(cases)
    assert list(differences.items())[:5] == []
    assert len(cases) > 1000 and 0.1 * len(cases) < taken < 0.9 * len(cases)


@pytest.mark.examples
def test_mutations_of_examples_same_verdicts_and_errors() -> None:
    cases = _mutated([resource for _name, resource in examples()], positions=6)
    taken, differences = _check_all(cases)
    assert list(differences.items())[:5] == []
    assert len(cases) > 7000 and 0.1 * len(cases) < taken < 0.9 * len(cases)


def test_unknown_types_and_shapes_are_not_sure() -> None:
    # the fast path has no say on what it does not know: the reference answers
    patient = {"resourceType": "Patient", "gender": "female"}
    assert certainly_valid(patient, "Patient")
    assert not certainly_valid(patient, "Observation")
    assert not certainly_valid({"resourceType": "Spaceship"}, "Spaceship")
    assert not certainly_valid({**patient, "fhir_comments": "x"}, "Patient")
    assert not certainly_valid({**patient, "birthDate__ext": {"id": "a"}}, "Patient")
    deep: dict[str, Any] = {"url": "http://x"}
    for _ in range(2000):
        deep = {"url": "http://x", "extension": [deep]}
    assert not certainly_valid({**patient, "extension": [deep]}, "Patient")

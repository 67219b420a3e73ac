"""Validation at the speed of the data (issue 17 point 2): our whole validate_resource against
fhir.resources R4B `model_validate` alone, on the same Synthea resources in the same run.

Each round times, one after another on every resource: (a) `model_validate` (the reference
model, what the fast path spares), (b) `validate_resource` (JSON types, the fast path or the
reference model, structure checks: what every write runs), (c) `validate_resource(...,
fast_path=False)` (the same before the fast path). Rounds are interleaved so machine noise
hits all three alike; the ratios b/a and c/a are taken per round and their median reported
(min..max beside it). Patient and Immunization are reported on their own too.

Goal: (b) <= 0.40 x (a), overall and for Patient.
Run: .venv/bin/python bench/bench_fast_validation.py [--rounds R] [--bundles N]
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from fhir.resources.R4B import get_fhir_model_class  # noqa: E402

from bench.report import Figure, emit  # noqa: E402
from fhir_server.model.parse import validate_resource  # noqa: E402

SYNTHEA = Path(__file__).resolve().parents[2] / "shared/data/synthea/bundles"
GOAL = 0.40
GROUPS = ("all", "Patient", "Immunization")


def load(bundles: int) -> list[dict[str, Any]]:
    """The resources of the first `bundles` Synthea bundles."""
    paths = sorted(SYNTHEA.glob("*.json"))[:bundles]
    return [entry["resource"] for path in paths
            for entry in json.loads(path.read_bytes())["entry"]]


def _seconds(function: Callable[[dict[str, Any]], Any], resources: list[dict[str, Any]]) -> float:
    """CPU seconds one pass of function over the resources takes (this thread's CPU time:
    other processes on the shared machine slow it less than the wall clock)."""
    start = time.thread_time()
    for resource in resources:
        function(resource)
    return time.thread_time() - start


def _reference_model(resource: dict[str, Any]) -> Any:
    return get_fhir_model_class(resource["resourceType"]).model_validate(resource)


def _before(resource: dict[str, Any]) -> Any:
    return validate_resource(resource, stored_only=False, fast_path=False)


def _ours(resource: dict[str, Any]) -> Any:
    return validate_resource(resource, stored_only=False)


def measure(resources: list[dict[str, Any]], rounds: int) -> list[tuple[float, float, float]]:
    """Per round: seconds of (model_validate, validate_resource, validate_resource before)."""
    samples = []
    for _ in range(rounds):
        samples.append((_seconds(_reference_model, resources), _seconds(_ours, resources),
                        _seconds(_before, resources)))
    return samples


def _spread(values: list[float]) -> str:
    """min/median/max of a list, as 0.21/0.23/0.26."""
    return f"{min(values):.2f}/{statistics.median(values):.2f}/{max(values):.2f}"


def report(group: str, count: int, samples: list[tuple[float, float, float]]) -> float:
    """Print one group's figures and records; return its median ratio ours/model_validate."""
    per = [tuple(seconds / count * 1e6 for seconds in sample) for sample in samples]
    reference, ours, before = (statistics.median(column) for column in zip(*per, strict=True))
    ratios = [sample[1] / sample[0] for sample in samples]
    before_ratios = [sample[2] / sample[0] for sample in samples]
    ratio = statistics.median(ratios)
    print(f"{group:13} {count:6} {reference:10.1f} {ours:10.1f} {before:10.1f}   "
          f"{_spread(ratios):>15} {_spread(before_ratios):>15}")
    label = "Synthea resource" if group == "all" else group
    emit(Figure(f"validate_resource per {label}", ours, "µs", ratio,
                note=f"ratio: / fhir.resources model_validate ({reference:.0f} µs) same run, "
                     f"goal <= {GOAL}; before the fast path {before:.0f} µs "
                     f"(x{statistics.median(before_ratios):.2f})"))
    return ratio


def main() -> int:
    """Measure and print the table and the goal check (exit 1 when missed)."""
    parser = argparse.ArgumentParser()
    parser.add_argument("--rounds", type=int, default=7)
    parser.add_argument("--bundles", type=int, default=58)
    args = parser.parse_args(sys.argv[1:] if __name__ == "__main__" else [])
    resources = load(args.bundles)
    if not resources:
        print(f"no Synthea data at {SYNTHEA}")
        return 1
    for resource in resources:  # warm caches; every resource must be valid
        _ours(resource)
        _before(resource)
    groups = {group: [r for r in resources if group == "all" or r["resourceType"] == group]
              for group in GROUPS}
    samples: dict[str, list[tuple[float, float, float]]] = {group: [] for group in GROUPS}
    for _ in range(args.rounds):  # the groups interleaved too
        for group in GROUPS:
            samples[group] += measure(groups[group], 1)
    print(f"{args.rounds} interleaved rounds, {len(resources)} resources of {args.bundles} "
          f"Synthea bundles; CPU microseconds per resource (medians); ratios min/median/max")
    print(f"{'group':13} {'count':>6} {'model_val.':>10} {'ours':>10} {'before':>10}   "
          f"{'ours/model':>15} {'before/model':>15}")
    ratios = {group: report(group, len(groups[group]), samples[group]) for group in GROUPS}
    missed = [group for group in ("all", "Patient") if ratios[group] > GOAL]
    print(f"goal: validate_resource <= {GOAL} x model_validate (all, Patient) -> "
          f"{'MISSED: ' + ', '.join(missed) if missed else 'met'}")
    return 1 if missed else 0


if __name__ == "__main__":
    sys.exit(main())

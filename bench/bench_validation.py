"""Validation cost per resource, with and without profile checks, against plain fhir.resources
parsing measured in the same run (interleaved rounds; best round, as timeit does, since
the minimum is the estimate least disturbed by other load on the machine).

For each Vietnamese profile's example instance (and a post-vaccination survey response) it
prints microseconds per resource for: (a) fhir.resources R4B `model_validate` alone; (b) the
base validation of a write (`validate_resource`: (a) + structure checks); (c) (b) + the profile
checker (what every create/update runs: claimed profiles, Questionnaire answers); and the
profile checks' added cost (c - b) as a share of (a) and of (b).

Goal (issue 4): profile checks add <= 50 % (of plain fhir.resources parsing).
Run: .venv/bin/python bench/bench_validation.py [--rounds R] [--iterations N]
"""

from __future__ import annotations

import argparse
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from fhir.resources.R4B import get_fhir_model_class  # noqa: E402

from fhir_server.model.parse import validate_resource  # noqa: E402
from fhir_server.settings import Settings  # noqa: E402
from fhir_server.validation.profiles import profile_checker  # noqa: E402

SD = "https://fhir.moh.gov.vn/fhir/StructureDefinition"
CS = "https://fhir.moh.gov.vn/terminology/CodeSystem"
GOAL = 0.50


def _ext(kind: str, code: str) -> dict[str, Any]:
    return {"url": f"{SD}/vn-address-{kind}", "valueCoding": {"system": f"{CS}/vn-{kind}",
                                                              "code": code}}


def examples() -> dict[str, dict[str, Any]]:
    """One realistic, conformant instance per profile, and a survey response."""
    participants = [{"actor": {"reference": "Patient/p1"}, "status": "accepted"}]
    return {
        "Patient (vn-patient)": {
            "resourceType": "Patient", "meta": {"profile": [f"{SD}/vn-patient"]},
            "identifier": [{"system": "urn:vn:cccd", "value": "001085012345"},
                           {"system": "urn:vn:bhyt", "value": "DN4010123456789"}],
            "name": [{"use": "official", "family": "Nguyễn", "given": ["Văn", "An"]}],
            "telecom": [{"system": "phone", "value": "+84912345678", "use": "mobile"}],
            "gender": "male", "birthDate": "1985-03-12",
            "address": [{"line": ["12 Phố Huế"], "city": "Hà Nội", "country": "VN",
                         "extension": [_ext("province", "01"), _ext("commune", "00004")]}]},
        "Immunization (vn-immunization)": {
            "resourceType": "Immunization", "meta": {"profile": [f"{SD}/vn-immunization"]},
            "status": "completed", "vaccineCode": {"coding": [
                {"system": f"{CS}/vn-covid19-vaccine", "code": "astrazeneca"}]},
            "patient": {"reference": "Patient/p1"},
            "occurrenceDateTime": "2021-08-01T09:00:00+07:00", "lotNumber": "ABV1234",
            "location": {"reference": "Location/site-1"},
            "performer": [{"actor": {"reference": "Practitioner/pr1"}}],
            "protocolApplied": [{"doseNumberPositiveInt": 1}]},
        "AdverseEvent (vn-adverse-event)": {
            "resourceType": "AdverseEvent",
            "meta": {"profile": [f"{SD}/vn-adverse-event-immunization"]},
            "actuality": "actual", "event": {"coding": [
                {"system": f"{CS}/vn-post-vaccination-reaction", "code": "sot"}]},
            "subject": {"reference": "Patient/p1"}, "date": "2021-08-01T20:00:00+07:00",
            "seriousness": {"coding": [{"system": "http://terminology.hl7.org/CodeSystem/"
                                        "adverse-event-seriousness", "code": "non-serious"}]},
            "suspectEntity": [{"instance": {"reference": "Immunization/i1"}}]},
        "Appointment (vn-appointment-vaccination)": {
            "resourceType": "Appointment",
            "meta": {"profile": [f"{SD}/vn-appointment-vaccination"]}, "status": "booked",
            "serviceType": [{"coding": [{"system": "http://snomed.info/sct",
                                         "code": "33879002"}]}],
            "start": "2021-08-10T08:00:00+07:00", "end": "2021-08-10T08:15:00+07:00",
            "participant": [*participants, {"actor": {"reference": "Location/site-1"},
                                            "status": "accepted"}]},
        "QuestionnaireResponse (survey)": {
            "resourceType": "QuestionnaireResponse", "status": "completed",
            "questionnaire": "https://fhir.moh.gov.vn/fhir/Questionnaire/"
                             "vn-post-vaccination-survey",
            "item": [
                {"linkId": "vaccine", "answer": [{"valueCoding": {
                    "system": f"{CS}/vn-covid19-vaccine", "code": "pfizer-biontech"}}]},
                {"linkId": "dose", "answer": [{"valueInteger": 2}]},
                {"linkId": "vaccination-date", "answer": [{"valueDate": "2021-08-01"}]},
                {"linkId": "onset", "answer": [{"valueDateTime": "2021-08-01T20:00:00+07:00"}]},
                {"linkId": "symptoms", "answer": [{"valueCoding": {
                    "system": f"{CS}/vn-post-vaccination-reaction", "code": "sot"}}]},
                {"linkId": "severity", "answer": [{"valueCoding": {
                    "system": "http://terminology.hl7.org/CodeSystem/adverse-event-severity",
                    "code": "mild"}}]},
                {"linkId": "care", "answer": [{"valueString": "Không cần xử trí (none)"}]}]},
    }


def _per_call(function: Callable[[], Any], iterations: int) -> float:
    start = time.perf_counter()
    for _ in range(iterations):
        function()
    return (time.perf_counter() - start) / iterations * 1e6


def measure(resource: dict[str, Any], rounds: int, iterations: int) -> tuple[float, ...]:
    """Best-round microseconds of (parse, base validation, base + profile checks)."""
    model = get_fhir_model_class(resource["resourceType"])
    checker = profile_checker(Settings())
    assert not [i for i in checker.check(resource) if i.severity == "error"], resource
    variants: list[Callable[[], Any]] = [
        lambda: model.model_validate(resource),
        lambda: validate_resource(resource),
        lambda: checker.check(validate_resource(resource)),
    ]
    samples: list[list[float]] = [[] for _ in variants]
    for _ in range(rounds):
        for index, variant in enumerate(variants):
            samples[index].append(_per_call(variant, iterations))
    return tuple(min(s) for s in samples)


def main() -> int:
    """Measure each example and print the table and the goal check."""
    parser = argparse.ArgumentParser()
    parser.add_argument("--rounds", type=int, default=40)
    parser.add_argument("--iterations", type=int, default=50)
    args = parser.parse_args(sys.argv[1:] if __name__ == "__main__" else [])
    print(f"{'resource':42} {'parse':>8} {'+struct':>8} {'+profile':>9} {'added':>7} "
          f"{'/parse':>7} {'/base':>6}   (microseconds per resource, best round)")
    totals = [0.0, 0.0, 0.0]
    worst = 0.0
    for name, resource in examples().items():
        parse, base, full = measure(resource, args.rounds, args.iterations)
        added = full - base
        worst = max(worst, added / parse)
        totals = [totals[0] + parse, totals[1] + base, totals[2] + full]
        print(f"{name:42} {parse:8.1f} {base:8.1f} {full:9.1f} {added:7.1f} "
              f"{added / parse:7.0%} {added / base:6.0%}")
    added_total = totals[2] - totals[1]
    print(f"{'all (sum)':42} {totals[0]:8.1f} {totals[1]:8.1f} {totals[2]:9.1f} "
          f"{added_total:7.1f} {added_total / totals[0]:7.0%} {added_total / totals[1]:6.0%}")
    verdict = "met" if added_total / totals[0] <= GOAL else "MISSED"
    print(f"goal: profile checks add <= {GOAL:.0%} of plain parsing -> {verdict} "
          f"(overall {added_total / totals[0]:.0%}, worst resource {worst:.0%})")
    return 0


if __name__ == "__main__":
    sys.exit(main())

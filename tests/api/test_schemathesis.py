"""Schemathesis against the published OpenAPI document, on a disposable database.

Every documented operation of a deterministic sample of the types (every SAMPLE_STEP-th type
in name order, plus Patient and Immunization: all 125 stored types would be ~1400 operations),
and every operation not under a type (batch/transaction, system search and history, /metadata,
system $operations, /auth/*, SMART /authorize and /token, /.well-known/*, health cards, bulk
export jobs, /healthz, /readyz), gets a bounded, seeded run of generated requests (anonymous:
no token); each
answer must be no 5xx (http.html#summary: errors are 4xx OperationOutcomes), a documented
status, and conform to the schema published for that status (so resources carry their
`resourceType`, errors are OperationOutcomes in application/fhir+json). No operation is
excluded within the sample. Bounded: MAX_EXAMPLES per operation, fixed seed, no shrinking (a
failure is reported as the first failing request of each operation).
"""

from __future__ import annotations

import time
from collections.abc import Callable

import hypothesis
import schemathesis
from flask import Flask
from hypothesis import HealthCheck, Phase, given, settings
from schemathesis.checks import not_a_server_error
from schemathesis.core.failures import Failure, FailureGroup
from schemathesis.specs.openapi.checks import (
    response_schema_conformance,
    status_code_conformance,
)

from fhir_server.resource_types import RESOURCE_TYPES

MAX_EXAMPLES = 4  # per operation: ~210 operations, so about 850 requests in all
SAMPLE_STEP = 12  # every 12th type in name order (11 types), plus the campaign's core types
SAMPLED = frozenset(sorted(RESOURCE_TYPES)[::SAMPLE_STEP]) | {"Patient", "Immunization"}
SEED = 20211
CHECKS = [not_a_server_error, status_code_conformance, response_schema_conformance]


def _run_operation(operation: schemathesis.APIOperation) -> str | None:
    """Run one operation's seeded examples; the first failure's text, or None."""
    strategy = operation.as_strategy()
    failures: list[str] = []

    @hypothesis.seed(SEED)
    @settings(max_examples=MAX_EXAMPLES, deadline=None, database=None,
              phases=[Phase.explicit, Phase.generate], suppress_health_check=list(HealthCheck))
    @given(case=strategy)
    def run(case: schemathesis.Case) -> None:
        if failures:
            return
        try:
            case.call_and_validate(checks=CHECKS)
        except (Failure, FailureGroup) as exc:
            failures.append(f"{operation.label}: {str(exc)[:1500]}")

    run()
    return failures[0] if failures else None


# http.html#summary + operationoutcome.html: no 5xx and every answer as documented
def test_schemathesis_no_server_errors_and_schema_conformance(
        make_app: Callable[..., Flask]) -> None:
    app = make_app()
    schema = schemathesis.openapi.from_wsgi("/openapi.json", app)
    described = [result.ok() for result in schema.get_all_operations()]
    assert len(described) >= 9 * len(RESOURCE_TYPES), len(described)  # every type is described
    heads = [(operation, operation.path.split("/")[1]) for operation in described]
    operations = [operation for operation, head in heads
                  if head in SAMPLED or head not in RESOURCE_TYPES]  # sampled types, system
    assert len(operations) >= 9 * len(SAMPLED), len(operations)
    paths = {operation.path for operation in operations}
    assert {"/auth/login", "/token", "/authorize", "/$verify-health-card",
            "/Patient/{id}/$everything", "/_bulk/export/{job_id}"} <= paths, paths
    started = time.monotonic()
    failures = [text for operation in operations
                if (text := _run_operation(operation)) is not None]
    elapsed = time.monotonic() - started
    assert not failures, (f"{len(failures)} of {len(operations)} operations failed "
                          f"({elapsed:.0f} s):\n\n" + "\n\n".join(failures))

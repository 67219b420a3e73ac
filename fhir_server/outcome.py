"""OperationOutcome builders, and pydantic validation errors turned into issues with paths."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

from fhir_server.errors import Issue


def operation_outcome(issues: Iterable[Issue]) -> dict[str, Any]:
    """Build an OperationOutcome resource from issues."""
    rendered = [issue.to_fhir() for issue in issues]
    if not rendered:
        rendered = [{"severity": "information", "code": "informational", "diagnostics": "All OK"}]
    return {"resourceType": "OperationOutcome", "issue": rendered}


def fhirpath_of(root: str, location: Sequence[Any]) -> str:
    """Turn a pydantic error location ('name', 0, 'family') into 'Patient.name[0].family'."""
    path = root
    for part in location:
        if isinstance(part, int):
            path += f"[{part}]"
        elif part in ("__root__",) or "[" in str(part) or str(part).startswith("function-"):
            continue
        else:
            path += f".{part}"
    return path


def issues_from_pydantic(root: str, errors: Iterable[dict[str, Any]]) -> list[Issue]:
    """Map pydantic ValidationError.errors() to OperationOutcome issues."""
    issues: list[Issue] = []
    for error in errors:
        kind = str(error.get("type", ""))
        code = "structure" if kind in ("extra_forbidden", "missing") else "value"
        if kind == "extra_forbidden":
            text = f"Unknown element '{error['loc'][-1]}'"
        elif kind == "missing":
            text = f"Missing required element '{error['loc'][-1]}'"
        else:
            text = str(error.get("msg", "invalid value")).removeprefix("Value error, ")
        issues.append(Issue(code, text, expression=(fhirpath_of(root, error.get("loc", ())),)))
    return issues

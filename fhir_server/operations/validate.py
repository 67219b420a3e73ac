"""$validate: POST [base]/[type]/$validate and [base]/[type]/[id]/$validate (FHIR R4
operation-resource-validate.html, OperationDefinition Resource-validate).

Input: the resource as the body, or a Parameters body with `resource`; `mode` (create | update
| delete; update and delete only at the instance level) and `profile` from the query or the
Parameters. The answer is an OperationOutcome with status 200 even when the resource has
errors ("All OK" information when none); only a malformed request gets a 4xx.
"""

from __future__ import annotations

from typing import Any

from fhir_server.errors import FhirError, Gone, InvalidRequest, Issue, NotFound
from fhir_server.interactions.context import Services
from fhir_server.model.parse import validate_resource
from fhir_server.operations.registry import OperationCall, OperationResult, operation
from fhir_server.outcome import operation_outcome
from fhir_server.validation.profiles import ProfileChecker, profile_checker

MODES = ("create", "update", "delete")


def _checker(svc: Services) -> ProfileChecker:
    found = svc.components.get("profiles")
    return found if isinstance(found, ProfileChecker) else profile_checker(svc.settings,
                                                                           svc.store)


def _resource(call: OperationCall) -> Any:
    """The resource to validate: the Parameters' `resource`, or the body itself."""
    body = call.body
    if isinstance(body, dict) and body.get("resourceType") == "Parameters" \
            and call.type_name != "Parameters":
        return call.first("resource")
    return body


def _text(call: OperationCall, name: str) -> str | None:
    value = call.first(name)
    if value is not None and not isinstance(value, str):
        raise InvalidRequest.at(f"Parameter '{name}' must be a string", name, "value")
    return value


def content_issues(svc: Services, resource: Any, type_name: str,
                   profile: str | None = None) -> list[Issue]:
    """Every issue a write of this resource would meet (base checks, checkers, `profile`)."""
    try:
        validated = validate_resource(resource, type_name)
    except FhirError as exc:
        return list(exc.issues)
    issues = [issue for checker in svc.checkers for issue in checker.check(validated)]
    if profile is not None:
        claimed = (validated.get("meta") or {}).get("profile", [])
        if profile not in claimed:
            issues += _checker(svc).check_against(validated, profile, "profile")
    return issues


def _update_issues(resource: Any, type_name: str, resource_id: str) -> list[Issue]:
    """What an update (FHIR http.html#update) needs beyond valid content: the URL's id."""
    if not isinstance(resource, dict):
        return []
    if "id" not in resource:
        return [Issue("required", "The resource in an update must carry its id",
                      expression=(f"{type_name}.id",))]
    if resource["id"] != resource_id:
        return [Issue("invalid", f"The body id '{resource['id']}' does not match the URL id "
                      f"'{resource_id}'", expression=(f"{type_name}.id",))]
    return []


@operation("validate", type_level=True, instance=True, methods=("POST",),
           definition="http://hl7.org/fhir/OperationDefinition/Resource-validate",
           documentation="Validate a resource (base rules, claimed and required profiles, "
           "Questionnaire answers); `profile` adds one profile, `mode` create/update/delete.")
def validate(svc: Services, call: OperationCall) -> OperationResult:
    """Answer an OperationOutcome describing what a write of the resource would meet."""
    assert call.type_name is not None
    mode = _text(call, "mode")
    profile = _text(call, "profile")
    if mode is not None and mode not in MODES:
        raise InvalidRequest.at(f"Unknown mode '{mode[:40]}' (create, update or delete)",
                                "mode", "value")
    if mode in ("update", "delete") and call.resource_id is None:
        raise InvalidRequest.at(f"Mode {mode} needs the instance level: "
                                f"POST [base]/{call.type_name}/[id]/$validate", "mode",
                                "invalid")
    if mode == "delete":
        assert call.resource_id is not None
        try:
            svc.store.read(call.type_name, call.resource_id)
            issues: list[Issue] = []
        except (NotFound, Gone) as exc:
            issues = [Issue("not-found", exc.message, expression=(call.type_name,))]
        return OperationResult(operation_outcome(issues))
    resource = _resource(call)
    if resource is None:
        raise InvalidRequest.at("$validate needs the resource (the body, or the Parameters' "
                                "'resource') unless mode is delete", "resource", "required")
    issues = content_issues(svc, resource, call.type_name, profile)
    if mode == "update" and call.resource_id is not None:
        issues += _update_issues(resource, call.type_name, call.resource_id)
    return OperationResult(operation_outcome(issues))

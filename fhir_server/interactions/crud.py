"""Instance-level interactions: read, vread, create, update, patch, delete (+ conditional forms)."""

from __future__ import annotations

import copy
import uuid
from typing import Any

import jsonpatch

from fhir_server.errors import (
    FhirError,
    Gone,
    InvalidRequest,
    NotFound,
    PreconditionFailed,
    Unprocessable,
)
from fhir_server.interactions.context import Services, WriteResult, parse_criteria
from fhir_server.model.parse import check_id, check_type
from fhir_server.storage.base import StoredVersion


def read(svc: Services, type_name: str, resource_id: str) -> StoredVersion:
    """The current version of a resource (404 unknown or not visible, 410 deleted)."""
    check_type(type_name)
    check_id(resource_id)
    return svc.store.read(type_name, resource_id)


def vread(svc: Services, type_name: str, resource_id: str, version_id: str) -> StoredVersion:
    """One version of a resource (410 for a deletion tombstone)."""
    check_type(type_name)
    check_id(resource_id)
    if not version_id.isdigit() or len(version_id) > 12:
        raise NotFound(f"{type_name}/{resource_id} has no version '{version_id[:20]}'")
    version = svc.store.vread(type_name, resource_id, int(version_id))
    if version.deleted:
        raise Gone(f"Version {version_id} of {type_name}/{resource_id} is a deletion")
    return version


def create(svc: Services, type_name: str, body: Any,
           if_none_exist: str | None = None) -> WriteResult:
    """Create with a server-assigned id; with If-None-Exist, only when nothing matches."""
    check_type(type_name)
    resource, warnings = svc.checked(body, type_name)
    if if_none_exist is not None and if_none_exist.strip():
        found = svc.search.match(type_name, parse_criteria(if_none_exist))
        if len(found) > 1:
            raise PreconditionFailed("If-None-Exist matched more than one resource")
        if found:
            return WriteResult(found[0], created=False, changed=False)
        if svc.settings.use_transactions:  # atomic: a claim on the criteria, as transactions
            return _as_transaction(svc, resource, warnings, {
                "method": "POST", "url": type_name, "ifNoneExist": if_none_exist})
    resource = {k: v for k, v in resource.items() if k != "id"}
    return WriteResult(svc.store.create(type_name, resource), created=True, issues=warnings)


def update(svc: Services, type_name: str, resource_id: str, body: Any,
           if_match: int | None = None) -> WriteResult:
    """Replace a resource (or create it with the client's id)."""
    check_type(type_name)
    check_id(resource_id)
    resource, warnings = svc.checked(body, type_name)
    if "id" not in resource:
        raise InvalidRequest.at("The resource in an update must carry its id",
                                f"{type_name}.id", "required")
    if resource["id"] != resource_id:
        raise InvalidRequest.at(
            f"The body id '{resource['id']}' does not match the URL id '{resource_id}'",
            f"{type_name}.id", "invalid")
    version, created = svc.store.update(type_name, resource_id, resource, if_match)
    return WriteResult(version, created=created, issues=warnings)


def _as_transaction(svc: Services, resource: dict[str, Any], warnings: list[Any],
                    request: dict[str, Any]) -> WriteResult:
    """A conditional write run as a one-entry transaction, so concurrent ones with the same
    criteria serialise on the criteria's claim (exactly one creates; the others find it)."""
    from fhir_server.interactions.bundle_errors import EntryError
    from fhir_server.interactions.bundle_parse import parse_entry
    from fhir_server.interactions.bundle_transaction import transact

    entry = parse_entry({"fullUrl": f"urn:uuid:{uuid.uuid4()}", "resource": resource,
                         "request": request}, 0, svc.settings.base_url)
    try:
        result = transact(svc, [entry])[0]
    except EntryError as error:  # not in a Bundle: the same error without the entry path
        raise FhirError(error.issues[0].diagnostics if error.issues else str(error),
                        status=error.status, code=error.issues[0].code if error.issues
                        else "processing") from None
    assert result.version is not None
    created = result.status == 201
    return WriteResult(result.version, created=created, changed=created or
                       request["method"] == "PUT", issues=[*warnings, *result.issues])


def conditional_update(svc: Services, type_name: str, criteria: str, body: Any,
                       if_match: int | None = None) -> WriteResult:
    """PUT Type?criteria: update the single match, create when none, 412 when several."""
    check_type(type_name)
    if svc.settings.use_transactions and not svc.search.match(type_name,
                                                              parse_criteria(criteria)):
        resource, warnings = svc.checked(body, type_name)  # no match yet: create atomically
        request = {"method": "PUT", "url": f"{type_name}?{criteria}"}
        if if_match is not None:
            request["ifMatch"] = f'W/"{if_match}"'
        return _as_transaction(svc, resource, warnings, request)
    found = svc.search.match(type_name, parse_criteria(criteria))
    if len(found) > 1:
        raise PreconditionFailed("The update criteria matched more than one resource")
    resource, warnings = svc.checked(body, type_name)
    if found:
        target = found[0].id
        if "id" in resource and resource["id"] != target:
            raise InvalidRequest.at(
                f"The body id '{resource['id']}' does not match the matched resource '{target}'",
                f"{type_name}.id", "invalid")
        version, created = svc.store.update(type_name, target, {**resource, "id": target},
                                            if_match)
        return WriteResult(version, created=created, issues=warnings)
    if "id" in resource:
        version, created = svc.store.update(type_name, resource["id"], resource, if_match)
        return WriteResult(version, created=created, issues=warnings)
    return WriteResult(svc.store.create(type_name, resource), created=True, issues=warnings)


def patch(svc: Services, type_name: str, resource_id: str, operations: Any,
          if_match: int | None = None) -> WriteResult:
    """Apply a JSON Patch (RFC 6902) to the current version, atomically."""
    check_type(type_name)
    check_id(resource_id)
    if not isinstance(operations, list) or not operations:
        raise InvalidRequest("A JSON Patch body must be a non-empty array of operations",
                             code="structure")
    for _attempt in range(5):
        current = read(svc, type_name, resource_id)
        if if_match is not None and if_match != current.version:
            raise PreconditionFailed(
                f"Version conflict: {type_name}/{resource_id} is at version {current.version}")
        assert current.resource is not None
        try:
            patched = jsonpatch.apply_patch(copy.deepcopy(current.resource), operations)
        except (jsonpatch.JsonPatchException, jsonpatch.JsonPointerException,
                TypeError, ValueError, KeyError, IndexError) as exc:
            raise Unprocessable(f"The JSON Patch cannot be applied: {exc}"[:500],
                                code="processing") from None
        if not isinstance(patched, dict) or patched.get("id") != resource_id:
            raise Unprocessable("A patch may not change the resource id", code="processing")
        resource, warnings = svc.checked(patched, type_name)
        try:
            version, _ = svc.store.update(type_name, resource_id, resource, current.version)
            return WriteResult(version, created=False, issues=warnings)
        except PreconditionFailed:
            if if_match is not None:
                raise
    raise PreconditionFailed(f"{type_name}/{resource_id} kept changing; patch not applied")


def delete(svc: Services, type_name: str, resource_id: str,
           if_match: int | None = None) -> StoredVersion | None:
    """Delete (leave a tombstone); None when nothing live was there: already deleted or never
    existed, both a success (R4 http.html#delete: 200/204 "if the resource does not exist")."""
    check_type(type_name)
    check_id(resource_id)
    return svc.store.delete(type_name, resource_id, if_match)


def conditional_delete(svc: Services, type_name: str, criteria: str) -> StoredVersion:
    """DELETE Type?criteria: delete the single match; 404 when none, 412 when several."""
    check_type(type_name)
    found = svc.search.match(type_name, parse_criteria(criteria))
    if len(found) > 1:
        raise PreconditionFailed("The delete criteria matched more than one resource")
    if not found:
        raise NotFound(f"No {type_name} matches the delete criteria")
    tombstone = svc.store.delete(type_name, found[0].id)
    if tombstone is None:
        raise NotFound(f"No {type_name} matches the delete criteria")
    return tombstone

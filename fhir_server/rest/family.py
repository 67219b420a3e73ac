"""The citizen app's own-record endpoints: /auth/profile (read, complete), /auth/family (list,
add) and /auth/family/<member> (update, unlink). HTTP only: the work is in auth/profile.py and
auth/family_members.py."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, Response, request

from fhir_server.auth.family_members import add_member, list_members, unlink_member, update_member
from fhir_server.auth.guard import unauthorized
from fhir_server.auth.principal import CITIZEN, current_principal
from fhir_server.auth.profile import read_profile, update_profile
from fhir_server.auth.service import AuthService
from fhir_server.errors import Forbidden, NotFound
from fhir_server.rest.auth import account_body, account_json
from fhir_server.rest.context import request_services

family = Blueprint("fhir_family", __name__)


def _holder() -> tuple[AuthService, dict[str, Any]]:
    """The auth service and the calling citizen's account (401/403 for anyone else)."""
    principal = current_principal()
    if principal.kind != CITIZEN:
        raise unauthorized() if principal.kind == "anonymous" else Forbidden(
            "Only citizen accounts have a family list")
    if principal.client is not None:  # an app's token speaks for one patient, not the holder
        raise Forbidden("The family list is for the citizen's own app, not third-party apps")
    service: AuthService | None = request_services().components.get("auth")
    if service is None:
        raise NotFound("Accounts are not enabled on this server")
    return service, service.accounts.get(principal.subject) or {}


@family.route("/auth/family", methods=["GET", "POST"])
def members() -> Response:
    """The holder's family ("Mối quan hệ với tôi"): list, or add a member."""
    service, account = _holder()
    svc = request_services()
    if request.method == "GET":
        return account_json({"patient": account.get("patient"), "family": account.get("family", []),
                      "members": list_members(svc, account)})
    member, related = add_member(svc, account, account_body())
    updated = service.accounts.add_family_member(account["_id"], member)
    tokens = service.sessions.open(updated, current_principal().session)
    return account_json({**tokens, "member": member, "relatedPerson": related}, 201)


@family.route("/auth/family/<member_id>", methods=["GET", "PATCH", "DELETE"])
def member(member_id: str) -> Response:
    """One member: read, update (same fields as adding), or unlink (the records stay)."""
    service, account = _holder()
    svc = request_services()
    if request.method == "GET":
        found = [m for m in list_members(svc, account) if m["patient"] == member_id]
        if not found:
            raise NotFound(f"Patient/{member_id[:64]} is not in your family")
        return account_json(found[0])
    if request.method == "PATCH":
        return account_json(update_member(svc, account, member_id, account_body()))
    unlink_member(svc, account, member_id)
    updated = service.accounts.remove_family_member(account["_id"], member_id)
    return account_json(service.sessions.open(updated, current_principal().session))


@family.route("/auth/profile", methods=["GET", "PATCH"])
def profile() -> Response:
    """The citizen's own record: read it (complete? missing?), or complete it."""
    _, account = _holder()
    svc = request_services()
    if request.method == "GET":
        return account_json(read_profile(svc, account))
    return account_json(update_profile(svc, account, account_body()))

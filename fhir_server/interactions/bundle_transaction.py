"""The transaction interaction (FHIR R4 http.html#transaction, #trules): every entry or none.

All entries run as one MongoDB multi-document transaction (`store.transact(work)`), through
the same crud interactions as single requests (validation, checkers, guard, versioning). Order:
DELETE, then POST, then PUT/PATCH, then GET/HEAD. Before POSTs are written, the identity of
every entry is planned (conditional creates and updates searched, PUT targets known), so that
placeholders resolve whatever the entry order; POSTs are then written in reference order and
bulk-created per type (bundle_posts.py), a reference cycle getting one id planned up front.

Write conflicts with concurrent transactions (MongoDB TransientTransactionError) re-run the
whole unit: the storage layer uses the driver's `with_transaction` (storage/transactions.py).
Conditional creates and creating conditional updates claim their normalised criteria in the same
transaction, so two concurrent transactions cannot both create a match for the same criteria:
the second conflicts, is re-run and finds the first one's resource.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from typing import Any
from urllib.parse import urlencode

from fhir_server.errors import FhirError, InvalidRequest, NotFound
from fhir_server.interactions.bundle_entry import (
    EntryResult,
    delete_entry,
    match_one,
    patch_entry,
    read_entry,
    response_entry,
    write_entry,
)
from fhir_server.interactions.bundle_errors import EntryError, at_entry
from fhir_server.interactions.bundle_parse import Entry
from fhir_server.interactions.bundle_posts import PostWriter
from fhir_server.interactions.bundle_refs import ReferenceMap
from fhir_server.interactions.context import Services, parse_criteria
from fhir_server.interactions.transaction_audit import audit_transaction

ORDER = {"DELETE": 0, "POST": 1, "PUT": 2, "PATCH": 2, "GET": 3, "HEAD": 3}


def criteria_key(type_name: str, criteria: str) -> str:
    """A normal form of 'Type?criteria' (parameters sorted) for claims and matching."""
    return f"{type_name}?{urlencode(sorted(parse_criteria(criteria)))}"


class TransactionRun:
    """One attempt at a transaction, inside an open database transaction."""

    def __init__(self, svc: Services, entries: list[Entry]) -> None:
        self.svc = svc
        self.entries = entries
        self.refs = ReferenceMap(svc.settings.base_url, self._conditional_reference)
        self.results: dict[int, EntryResult] = {}
        self.planned: dict[int, str] = {}  # entry index -> the id it will be written with
        self.creators: dict[str, int] = {}  # criteria key -> the POST entry that creates it
        self.copies: dict[int, int] = {}  # repeated conditional create -> the creating entry
        self.identities: dict[str, int] = {}  # Type/id written -> entry index (overlap check)
        self.posts: list[Entry] = []

    def run(self) -> list[EntryResult]:
        """Apply every entry in the processing order; results in request order."""
        ordered = sorted(self.entries, key=lambda e: (ORDER[e.method], e.index))
        for entry in ordered:
            if entry.method == "DELETE":
                self.step(entry, self._delete)
        for entry in ordered:
            if entry.method == "POST" and entry.operation is None:
                self.step(entry, self._plan_post, "request.ifNoneExist")
        for entry in ordered:
            if entry.method in ("PUT", "PATCH"):
                self.step(entry, self._plan_put)
        self._write_posts()
        for entry in ordered:
            if entry.method in ("PUT", "PATCH"):
                self.step(entry, self._put)
            elif entry.method in ("GET", "HEAD") or entry.operation is not None:
                self.step(entry, self._get)  # reads, then $operations (see the writes)
        return [self.results[entry.index] for entry in self.entries]

    def step(self, entry: Entry, action: Callable[[Entry], None],
             fallback: str = "request.url") -> None:
        """Run an action for an entry; its FHIR errors are located in the entry."""
        try:
            action(entry)
        except EntryError:
            raise
        except FhirError as error:
            raise at_entry(error, entry, fallback) from None

    # -- identities ----------------------------------------------------------------------
    def _claim_identity(self, entry: Entry, type_name: str, resource_id: str) -> None:
        identity = f"{type_name}/{resource_id}"
        other = self.identities.setdefault(identity, entry.index)
        if other != entry.index:
            raise InvalidRequest.at(
                f"{entry.where} and Bundle.entry[{other}] both act on {identity}: resource "
                "identities may not overlap in a transaction", f"{entry.where}.request.url",
                "invalid")

    def _claim_criteria(self, key: str) -> None:
        """Upsert the claim of a creating conditional write (see the module docstring)."""
        self.svc.store.claim(key)

    def plan_id(self, entry: Entry) -> str:
        """Give an entry its id before it is written (cycles, conditional references)."""
        planned = self.planned.get(entry.index)
        if planned is None:
            planned = self.planned[entry.index] = str(uuid.uuid4())
            assert entry.type_name is not None
            self.refs.add(entry.full_url, entry.type_name, planned)
        return planned

    # -- steps ---------------------------------------------------------------------------
    def _delete(self, entry: Entry) -> None:
        type_name = entry.type_name
        assert type_name is not None
        resource_id = entry.resource_id
        if entry.conditional:
            found = match_one(self.svc, type_name, self.refs.resolve_url(entry.query or ""),
                              "delete")
            if found is None:
                raise NotFound(f"No {type_name} matches the delete criteria")
            resource_id = found.id
        assert resource_id is not None
        self._claim_identity(entry, type_name, resource_id)
        self.results[entry.index] = delete_entry(self.svc, type_name, resource_id,
                                                 entry.if_match)

    def _plan_post(self, entry: Entry) -> None:
        if entry.if_none_exist is None:
            self.posts.append(entry)
            return
        type_name = entry.type_name
        assert type_name is not None
        key = criteria_key(type_name, self.refs.resolve_url(entry.if_none_exist))
        creator = self.creators.get(key)
        if creator is not None:  # the same conditional create twice: one resource
            self.copies[entry.index] = creator
            target = self.plan_id(self.entries[creator])
            self.refs.add(entry.full_url, type_name, target)
            return
        found = match_one(self.svc, type_name, key.split("?", 1)[1], "If-None-Exist")
        if found is not None:
            self.refs.add(entry.full_url, type_name, found.id)
            self.results[entry.index] = EntryResult(
                200, found, text=f"Found {type_name}/{found.id} (If-None-Exist)")
            return
        self._claim_criteria(key)
        self.creators[key] = entry.index
        self.posts.append(entry)

    def _plan_put(self, entry: Entry) -> None:
        type_name = entry.type_name
        assert type_name is not None
        if entry.method == "PATCH" or not entry.conditional:
            assert entry.resource_id is not None
            self.planned[entry.index] = entry.resource_id
            self.refs.add(entry.full_url, type_name, entry.resource_id)
            self._claim_identity(entry, type_name, entry.resource_id)
            return
        key = criteria_key(type_name, self.refs.resolve_url(entry.query or ""))
        found = match_one(self.svc, type_name, key.split("?", 1)[1], "update")
        body_id = (entry.resource or {}).get("id")
        if found is not None and body_id not in (None, found.id):
            raise InvalidRequest.at(f"The body id '{str(body_id)[:64]}' does not match the "
                                    f"matched resource '{found.id}'", f"{type_name}.id",
                                    "invalid")
        if found is not None or isinstance(body_id, str):
            target = found.id if found is not None else str(body_id)
            self.planned[entry.index] = target
            self.refs.add(entry.full_url, type_name, target)
        else:
            self._claim_criteria(key)
            target = self.plan_id(entry)
        self._claim_identity(entry, type_name, target)

    def _write_posts(self) -> None:
        """POSTs in reference order, bulk-created per type (bundle_posts.py)."""
        PostWriter(self).write(self.posts)
        for copy, creator in self.copies.items():
            version = self.results[creator].version
            self.results[copy] = EntryResult(200, version, text="Found (If-None-Exist)")

    def post(self, entry: Entry) -> None:
        """Write one POST entry through crud (server id, or its planned id)."""
        assert entry.type_name is not None and entry.resource is not None
        resource = self.refs.rewrite(entry.resource, f"{entry.where}.resource")
        result = write_entry(self.svc, entry.type_name, resource, self.planned.get(entry.index))
        if entry.index not in self.planned and result.version is not None:
            self.refs.add(entry.full_url, entry.type_name, result.version.id)
        self.results[entry.index] = result

    def _put(self, entry: Entry) -> None:
        if entry.method == "PATCH":
            self.results[entry.index] = patch_entry(self.svc, entry)
            return
        assert entry.type_name is not None and entry.resource is not None
        resource = self.refs.rewrite(entry.resource, f"{entry.where}.resource")
        self.results[entry.index] = write_entry(self.svc, entry.type_name, resource,
                                                self.planned[entry.index], entry.if_match)

    def _get(self, entry: Entry) -> None:
        if entry.query or entry.resource is not None:
            resource = (self.refs.rewrite(entry.resource, f"{entry.where}.resource")
                        if entry.resource is not None else None)
            entry = Entry(entry.index, entry.method, entry.path,
                          self.refs.resolve_url(entry.query) if entry.query else None,
                          resource=resource)
        self.results[entry.index] = read_entry(self.svc, entry)

    def _conditional_reference(self, reference: str) -> str:
        type_name, _, criteria = reference.partition("?")
        key = criteria_key(type_name, criteria)
        creator = self.creators.get(key)
        if creator is not None:  # created by a conditional create of this Bundle
            done = self.results.get(creator)
            if done is not None and done.version is not None:
                return f"{type_name}/{done.version.id}"
            return f"{type_name}/{self.plan_id(self.entries[creator])}"
        found = match_one(self.svc, type_name, criteria, "reference")
        if found is None:
            raise InvalidRequest(f"no {type_name} matches", code="not-found")
        return f"{type_name}/{found.id}"


def transact(svc: Services, entries: list[Entry]) -> list[EntryResult]:
    """Run entries as one atomic unit (re-run on write conflicts); their results in order."""
    if not svc.settings.use_transactions:
        raise FhirError("Transactions are disabled (FHIR_USE_TRANSACTIONS=0); they need a "
                        "MongoDB replica set", status=501, code="not-supported")
    return svc.store.transact(lambda: TransactionRun(svc, entries).run())


def run_transaction(svc: Services, entries: list[Entry],
                    prefer: str = "representation") -> dict[str, Any]:
    """Apply a transaction atomically and return the transaction-response Bundle."""
    results = transact(svc, entries)
    base = svc.settings.base_url
    audit_transaction(svc, entries, results)  # every entry named, entries of a kind together
    return {"resourceType": "Bundle", "type": "transaction-response",
            "entry": [response_entry(result, entry, base, prefer)
                      for result, entry in zip(results, entries, strict=True)]}

"""A stream of transaction-Bundle ingests from several clients, and the check that follows a
crash (FHIR R4 http.html#transaction: all entries succeed or fail together).

Every Bundle carries its own tag (identifier `urn:test:fault-bundle|<tag>` on each resource) and
one conditional create of a shared Organization (`ifNoneExist`, as senders deduplicate). After
the crash and restart `check_ingest` finds, for every Bundle a client sent — answered or not —
either all of its entries or none, and for every Bundle acknowledged (200 received) exactly the
resources its response named.
"""

from __future__ import annotations

import threading
import uuid
from collections import Counter, defaultdict
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from tests.api.helpers import patient
from tests.api.test_transaction import bundle, entry, immunization, urn

SYSTEM = "urn:test:fault-bundle"
ORG_SYSTEM = "urn:test:fault-org"
SHOTS = 3
EXPECTED = {"Patient": 1, "Immunization": SHOTS, "Observation": 1}
Post = Callable[[dict[str, Any]], tuple[int, dict[str, Any] | None]]
Get = Callable[[str], dict[str, Any]]


def tagged_bundle(tag: str, org_code: str) -> dict[str, Any]:
    """A transaction: the shared Organization (conditional), a Patient, its shots and a test."""
    pat, org = urn(), urn()
    mine = [{"system": SYSTEM, "value": tag}]
    observation = {"resourceType": "Observation", "status": "final", "identifier": mine,
                   "code": {"coding": [{"system": "http://loinc.org", "code": "8302-2"}]},
                   "subject": {"reference": pat}, "valueQuantity": {"value": 170, "unit": "cm"}}
    organization = {"resourceType": "Organization", "name": "Trạm y tế phường",
                    "identifier": [{"system": ORG_SYSTEM, "value": org_code}]}
    return bundle(
        entry("POST", "Organization", organization, org,
              ifNoneExist=f"identifier={ORG_SYSTEM}|{org_code}"),
        entry("POST", "Patient", patient(identifier=mine,
                                         managingOrganization={"reference": org}), pat),
        *(entry("POST", "Immunization", immunization(pat, identifier=mine))
          for _ in range(SHOTS)),
        entry("POST", "Observation", observation))


@dataclass
class Sent:
    """One Bundle a client sent: its tag and, once answered 200, the resources it named."""

    tag: str
    acknowledged: bool = False
    named: set[str] = field(default_factory=set)  # "Type/id" of the tagged entries


class Ingest:
    """Clients posting tagged transaction Bundles on threads until stopped."""

    def __init__(self, post: Post, clients: int = 4) -> None:
        self.post, self.clients = post, clients
        self.org_code = uuid.uuid4().hex
        self.sent: list[Sent] = []
        self.statuses: Counter[int] = Counter()
        self._lock, self._stop = threading.Lock(), threading.Event()
        self._threads = [threading.Thread(target=self._client, daemon=True)
                         for _ in range(clients)]

    def start(self) -> Ingest:
        """Start the clients."""
        for thread in self._threads:
            thread.start()
        return self

    def stop(self) -> None:
        """Stop the clients (each finishes the request it is in)."""
        self._stop.set()
        for thread in self._threads:
            thread.join(timeout=120)
            assert not thread.is_alive(), "a client is still waiting for an answer"

    def acknowledged(self) -> list[Sent]:
        """The Bundles answered 200 so far."""
        with self._lock:
            return [s for s in self.sent if s.acknowledged]

    def _client(self) -> None:
        while not self._stop.is_set():
            sent = Sent(uuid.uuid4().hex)
            with self._lock:
                self.sent.append(sent)
            status, body = self.post(tagged_bundle(sent.tag, self.org_code))
            with self._lock:
                self.statuses[status] += 1
                if status == 200 and body is not None:
                    locations = [e["response"]["location"] for e in body["entry"][1:]]
                    sent.named = {"/".join(loc.split("/")[:2]) for loc in locations}
                    sent.acknowledged = True
            if status != 200:
                self._stop.wait(0.1)


def _tagged(get: Get, type_name: str, base: str) -> dict[str, set[str]]:
    """tag -> "Type/id" of every stored resource of this type carrying a fault-bundle tag."""
    found: dict[str, set[str]] = defaultdict(set)
    page: str | None = f"/{type_name}?identifier={SYSTEM}|&_count=500"
    while page:
        body = get(page)
        for item in body.get("entry", []):
            resource = item["resource"]
            for ident in resource.get("identifier", []):
                if ident.get("system") == SYSTEM:
                    found[ident["value"]].add(f"{type_name}/{resource['id']}")
        page = next((link["url"].removeprefix(base) for link in body.get("link", [])
                     if link["relation"] == "next"), None)
    return found


def check_ingest(ingest: Ingest, get: Get, base: str) -> dict[str, int]:
    """All or nothing per Bundle; every acknowledged Bundle wholly present with the resources
    its response named; one shared Organization. Returns counts for the report."""
    stored = {t: _tagged(get, t, base) for t in EXPECTED}
    sent_tags = {s.tag for s in ingest.sent}
    for type_name, by_tag in stored.items():
        assert set(by_tag) <= sent_tags, f"{type_name} carries tags nobody sent"
    whole = absent = 0
    for sent in ingest.sent:
        counts = {t: len(stored[t].get(sent.tag, ())) for t in EXPECTED}
        if counts == EXPECTED:
            whole += 1
        else:
            assert counts == dict.fromkeys(EXPECTED, 0), f"partial transaction: {counts}"
            absent += 1
        if sent.acknowledged:
            assert counts == EXPECTED, f"an acknowledged Bundle is missing entries: {counts}"
            assert set().union(*(stored[t][sent.tag] for t in EXPECTED)) == sent.named
    orgs = get(f"/Organization?identifier={ORG_SYSTEM}|{ingest.org_code}&_count=0")
    assert orgs["total"] == (1 if whole else 0), "the shared Organization was duplicated"
    acknowledged = len(ingest.acknowledged())
    return {"sent": len(ingest.sent), "acknowledged": acknowledged, "whole": whole,
            "absent": absent, "unacknowledged_but_whole": whole - acknowledged}

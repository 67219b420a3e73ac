"""AuditEvent resources for every access to personal data, written off the request path.

Each request that reads, searches or writes personal data (or issues a health card) is
recorded as a FHIR AuditEvent (who, what, when, from where, outcome) whoever asks: refused
and unauthenticated requests too, and every request of a server run without authentication
(FHIR_AUDIT=all, the default; `authenticated` limits it to callers with a token). Requests
only enqueue; a background thread stores the events in batches (two bulk inserts per batch), so
auditing adds no database round trip to a read. The events are built here from fixed shapes
(tests validate them against the R4 model), so they are stored without re-validation.
"""

from __future__ import annotations

import logging
import queue
import threading
import time
from collections.abc import Callable
from datetime import datetime
from typing import Any

from fhir_server.auth.principal import INTERNAL, INTERNAL_PRINCIPAL, Principal, acting_as

log = logging.getLogger(__name__)
ACTIONS = {"GET": "R", "HEAD": "R", "POST": "C", "PUT": "U", "PATCH": "U", "DELETE": "D"}
TYPE_SYSTEM = "http://terminology.hl7.org/CodeSystem/audit-event-type"
INTERACTION_SYSTEM = "http://hl7.org/fhir/restful-interaction"
BATCH = 200
LINGER_SECONDS = 0.05  # gather a batch this long after its first event: one commit for many
UNAUTHENTICATED = "unauthenticated"  # the agent of a request served without authentication


def outcome_code(status: int) -> str:
    """AuditEvent.outcome: 0 success, 4 minor failure (4xx), 8 serious failure (5xx)."""
    return "0" if status < 400 else ("4" if status < 500 else "8")


def audit_event(principal: Principal, method: str, interaction: str, what: list[str],
                query: str | None, status: int, recorded: str,
                address: str | None = None) -> dict[str, Any]:
    """The AuditEvent for one request (`address`: the caller's, when the principal has none)."""
    kind, subject = ((UNAUTHENTICATED, "open-access") if principal.kind == INTERNAL
                     else (principal.kind, principal.subject))
    who: dict[str, Any] = (
        {"reference": principal.reference} if principal.reference.startswith("Patient/")
        else {"identifier": {"system": f"urn:fhir-server:{kind}", "value": subject}})
    agent: dict[str, Any] = {"who": who, "requestor": True}
    if principal.address or address:
        agent["network"] = {"address": principal.address or address, "type": "2"}
    event: dict[str, Any] = {
        "resourceType": "AuditEvent",
        "type": {"system": TYPE_SYSTEM, "code": "rest", "display": "RESTful Operation"},
        "subtype": [{"system": INTERACTION_SYSTEM, "code": interaction}],
        "action": "E" if interaction == "operation" else ACTIONS.get(method, "E"),
        "recorded": recorded, "outcome": outcome_code(status),
        "agent": [agent], "source": {"observer": {"display": "fhir_server"}},
    }
    entities: list[dict[str, Any]] = [{"what": {"reference": ref}} for ref in what]
    if query:
        entities.append({"description": query[:1000]})
    if entities:
        event["entity"] = entities
    return event


class AuditSink:
    """A queue drained by a daemon thread that stores AuditEvents as the server itself."""

    def __init__(self, store_events: Callable[[list[dict[str, Any]]], object],
                 clock: Callable[[], datetime], linger: float = LINGER_SECONDS) -> None:
        self.store_events = store_events
        self.clock = clock
        self.linger = linger
        self.pending: queue.Queue[dict[str, Any]] = queue.Queue(maxsize=100_000)
        self._thread = threading.Thread(target=self._run, name="audit", daemon=True)
        self._thread.start()

    def record(self, event: dict[str, Any]) -> None:
        """Enqueue an event (never blocks a request; logs if the queue is full)."""
        try:
            self.pending.put_nowait(event)
        except queue.Full:
            log.error("audit queue full: event dropped %s", event.get("entity"))

    def _run(self) -> None:
        while True:
            batch = [self.pending.get()]
            deadline = time.monotonic() + self.linger
            while len(batch) < BATCH:
                try:
                    batch.append(self.pending.get(timeout=max(0.0, deadline - time.monotonic())))
                except queue.Empty:
                    break
            try:
                with acting_as(INTERNAL_PRINCIPAL):
                    self.store_events(batch)
            except Exception:  # noqa: BLE001 - keep auditing whatever one batch did
                log.exception("could not store %d AuditEvents", len(batch))
            finally:
                for _ in batch:
                    self.pending.task_done()

    def flush(self) -> None:
        """Wait until every queued event is stored."""
        self.pending.join()

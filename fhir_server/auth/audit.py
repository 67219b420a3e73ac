"""AuditEvent resources for every access to personal data, written off the request path.

Each request that reads, searches or writes personal data (or issues a health card) is
recorded as a FHIR AuditEvent (who, what, when, from where, outcome) whoever asks: refused
and unauthenticated requests too, and every request of a server run without authentication
(FHIR_AUDIT=all, the default; `authenticated` limits it to callers with a token). Requests
only spool (one JSON line appended to a local file, see audit_spool.py) and enqueue; a
background thread stores the events in batches (two bulk inserts per batch), so auditing adds
no database round trip to a read. Each event gets its id at enqueue time, so storing it again
(retries while the database is down, replay after a crash) is a no-op. The events are built
here from fixed shapes (tests validate them against the R4 model), so they are stored without
re-validation.
"""

from __future__ import annotations

import logging
import queue
import threading
import time
import uuid
from collections.abc import Callable, Sequence
from datetime import datetime
from pathlib import Path
from typing import Any

from fhir_server.auth.audit_spool import AuditSpool, Segment
from fhir_server.auth.principal import INTERNAL, INTERNAL_PRINCIPAL, Principal, acting_as
from fhir_server.storage.mongo import MongoResourceStore

log = logging.getLogger(__name__)
ACTIONS = {"GET": "R", "HEAD": "R", "POST": "C", "PUT": "U", "PATCH": "U", "DELETE": "D"}
TYPE_SYSTEM = "http://terminology.hl7.org/CodeSystem/audit-event-type"
INTERACTION_SYSTEM = "http://hl7.org/fhir/restful-interaction"
BATCH = 200
LINGER_SECONDS = 0.05  # gather a batch this long after its first event: one commit for many
UNAUTHENTICATED = "unauthenticated"  # the agent of a request served without authentication
QUEUE_SIZE = 100_000
BACKOFF_SECONDS = (0.2, 10.0)  # first and longest wait between attempts to store a batch
POLL_SECONDS = 0.5  # how often an idle store thread checks whether it should stop


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


def insert_audit_events(store: MongoResourceStore, events: Sequence[dict[str, Any]]) -> None:
    """Store AuditEvents under their own ids; an id stored already is a no-op (idempotent)."""
    store.create_many_with_ids("AuditEvent", events)


Item = tuple[Segment | None, dict[str, Any]]


class AuditSink:
    """A queue drained by a daemon thread that stores AuditEvents as the server itself; with a
    spool directory every event is on local disk before `record` returns and stays there until
    stored (retried with backoff while the database is down, replayed by the next start)."""

    def __init__(self, store_events: Callable[[list[dict[str, Any]]], object],
                 clock: Callable[[], datetime], linger: float = LINGER_SECONDS,
                 spool_dir: str | Path | None = None,
                 backoff: tuple[float, float] = BACKOFF_SECONDS) -> None:
        self.store_events = store_events
        self.clock = clock
        self.linger = linger
        self.backoff = backoff
        self.pending: queue.Queue[Item] = queue.Queue(maxsize=QUEUE_SIZE)
        self.spool = AuditSpool(spool_dir) if spool_dir else None
        self._stop = threading.Event()
        if self.spool is not None:
            replayed = self.spool.replay()
            for item in replayed[:QUEUE_SIZE]:  # the rest waits in the spool for a later start
                self.pending.put_nowait(item)
            if replayed:
                log.warning("replaying %d spooled AuditEvents", len(replayed))
        self._thread = threading.Thread(target=self._run, name="audit", daemon=True)
        self._thread.start()

    def record(self, event: dict[str, Any]) -> None:
        """Give the event an id, spool it, enqueue it (never blocks a request on the store)."""
        event.setdefault("id", str(uuid.uuid4()))
        segment = None
        if self.spool is not None:
            try:
                segment = self.spool.append(event)
            except OSError:
                log.exception("audit spool write failed: event %s kept in memory only",
                              event["id"])
        try:
            self.pending.put_nowait((segment, event))
        except queue.Full:
            log.error("audit queue full: event %s %s", event["id"],
                      "left in the spool for the next start" if segment else "dropped")

    def _run(self) -> None:
        while not self._stop.is_set():
            try:
                batch = [self.pending.get(timeout=POLL_SECONDS)]
            except queue.Empty:
                continue
            deadline = time.monotonic() + self.linger
            while len(batch) < BATCH:
                try:
                    batch.append(self.pending.get(timeout=max(0.0, deadline - time.monotonic())))
                except queue.Empty:
                    break
            try:
                self._store(batch)
            finally:
                for _ in batch:
                    self.pending.task_done()

    def _store(self, batch: list[Item]) -> None:
        """Store one batch; with a spool, retry with bounded backoff until it is stored."""
        delay, failures = self.backoff[0], 0
        while True:
            try:
                if self.spool is not None:
                    self.spool.sync()
                with acting_as(INTERNAL_PRINCIPAL):
                    self.store_events([event for _, event in batch])
            except Exception:  # noqa: BLE001 - keep auditing whatever one batch did
                failures += 1
                if self.spool is None:
                    log.exception("could not store %d AuditEvents (dropped)", len(batch))
                    return
                log.warning("could not store %d AuditEvents (attempt %d); retrying in %.1f s",
                            len(batch), failures, delay, exc_info=failures == 1)
                if self._stop.wait(delay):
                    return  # closing: the batch stays in the spool
                delay = min(delay * 2, self.backoff[1])
                continue
            if self.spool is not None:
                self.spool.ack(batch)
            if failures:
                log.warning("stored %d AuditEvents after %d failed attempts",
                            len(batch), failures)
            return

    def flush(self) -> None:
        """Wait until every queued event is stored."""
        self.pending.join()

    def close(self, drain: bool = True, timeout: float = 30.0) -> None:
        """Stop the thread (after storing the queue when `drain`); unstored events stay in the
        spool for the next start (`drain=False` is what a killed process leaves behind)."""
        if drain:
            self.flush()
        self._stop.set()
        self._thread.join(timeout)
        if self.spool is not None:
            self.spool.close()

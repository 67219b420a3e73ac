"""Prometheus metrics of the server (issue 16 point 2): no Flask here, only the definitions.

Label sets are bounded: the interaction (from the matched route, never the raw path), the
resource type (known types only, else `other`), the status code. Under gunicorn the values are
kept per process in PROMETHEUS_MULTIPROC_DIR (fhir_server/serving.py makes a fresh one per
start) and merged at scrape time.
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

from prometheus_client import (
    CollectorRegistry,
    Counter,
    Histogram,
    generate_latest,
    multiprocess,
    values,
)
from prometheus_client.core import GaugeMetricFamily
from prometheus_client.registry import REGISTRY, Collector

MULTIPROC_ENV = "PROMETHEUS_MULTIPROC_DIR"
INTERACTIONS = frozenset({"read", "vread", "search-type", "search-system", "create", "update",
                          "patch", "delete", "history", "transaction", "batch", "operation",
                          "capabilities", "other"})
LATENCY_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0)
DB_BUCKETS = (0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 1.0, 5.0)

HTTP_REQUESTS = Counter("fhir_http_requests_total", "HTTP requests answered",
                        ["interaction", "type", "status"])
HTTP_LATENCY = Histogram("fhir_http_request_duration_seconds", "HTTP request latency",
                         ["interaction", "type"], buckets=LATENCY_BUCKETS)
DB_LATENCY = Histogram("fhir_db_command_duration_seconds", "MongoDB command latency",
                       ["command", "outcome"], buckets=DB_BUCKETS)
CARDS_ISSUED = Counter("fhir_health_cards_issued_total", "SMART Health Cards signed",
                       ["kind"])
SMS_FAILURES = Counter("fhir_sms_delivery_failures_total", "SMS gateway delivery failures",
                       ["kind"])


_REQUEST_SERIES: dict[tuple[str, str, int], tuple[Any, Any]] = {}


def observe_request(interaction: str, type_name: str, status: int, seconds: float) -> None:
    """Count one answered HTTP request and its latency."""
    series = _REQUEST_SERIES.get((interaction, type_name, status))
    if series is None:  # the label children of this (interaction, type, status), once
        label = "history" if interaction.startswith("history") else interaction
        label = label if label in INTERACTIONS else "other"
        series = (HTTP_REQUESTS.labels(label, type_name, str(status)),
                  HTTP_LATENCY.labels(label, type_name))
        _REQUEST_SERIES[(interaction, type_name, status)] = series
    series[0].inc()
    series[1].observe(seconds)


def card_issued(count: int = 1) -> None:
    """Count health cards signed."""
    CARDS_ISSUED.labels("immunization").inc(count)


def sms_failed() -> None:
    """Count one failed SMS delivery attempt."""
    SMS_FAILURES.labels("gateway").inc()


def observe_db_command(command: str, ok: bool, seconds: float) -> None:
    """Observe one database command's latency by its name (a bounded set, else `other`)."""
    DB_LATENCY.labels(command if command in DB_COMMANDS else "other",
                      "ok" if ok else "error").observe(seconds)


DB_COMMANDS = frozenset({"find", "insert", "update", "delete", "aggregate", "getMore", "count",
                         "findAndModify", "createIndexes", "listIndexes", "ping", "hello",
                         "isMaster", "distinct", "killCursors", "commitTransaction",
                         "abortTransaction", "endSessions", "drop", "listCollections"})


class QueueCollector(Collector):
    """Outbox depth by status and job queue depth by status, counted at scrape time."""

    def __init__(self, outbox_counts: Callable[[], dict[str, int]],
                 job_counts: Callable[[], dict[str, int]]) -> None:
        self.outbox_counts = outbox_counts
        self.job_counts = job_counts

    def collect(self) -> Iterator[GaugeMetricFamily]:
        """Two gauge families; a database error leaves them out of this scrape."""
        for name, doc, counts in (("fhir_sms_outbox_messages", "SMS outbox by status",
                                   self.outbox_counts),
                                  ("fhir_jobs", "Asynchronous jobs by status", self.job_counts)):
            family = GaugeMetricFamily(name, doc, labels=["status"])
            try:
                rows = counts()
            except Exception:  # noqa: BLE001 - an unreachable database: /readyz reports it
                continue
            for status, n in sorted(rows.items()):
                family.add_metric([str(status)[:32]], n)
            yield family


def scrape(collectors: list[Collector]) -> bytes:
    """The text exposition of every metric: merged over processes in multi-process mode."""
    registry: CollectorRegistry
    if os.environ.get(MULTIPROC_ENV):
        registry = CollectorRegistry()
        multiprocess.MultiProcessCollector(registry)
    else:
        registry = CollectorRegistry()
        registry.register(_Default())
    for collector in collectors:
        registry.register(collector)
    return generate_latest(registry)


class _Default(Collector):
    def collect(self) -> Iterator[Any]:
        yield from REGISTRY.collect()


def prepare_multiprocess_dir(default: Path) -> Path:
    """Point PROMETHEUS_MULTIPROC_DIR at an empty directory (stale files removed) before the
    workers fork; the metrics defined already switch to per-process files."""
    path = Path(os.environ.get(MULTIPROC_ENV) or default)
    path.mkdir(parents=True, mode=0o700, exist_ok=True)
    for stale in path.glob("*.db"):  # only prometheus-client's own files
        stale.unlink()
    os.environ[MULTIPROC_ENV] = str(path)
    values.ValueClass = values.get_value_class()
    _REQUEST_SERIES.clear()  # children made before hold in-process values
    return path


def worker_exited(pid: int) -> None:
    """gunicorn child_exit: merge a dead worker's live gauges away."""
    if os.environ.get(MULTIPROC_ENV):
        multiprocess.mark_process_dead(pid)


def monotonic() -> float:
    """The clock of request latencies."""
    return time.perf_counter()

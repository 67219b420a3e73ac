"""Issue 16 point 2: under gunicorn (2 workers) /metrics merges every worker's counts
(prometheus-client multi-process mode, PROMETHEUS_MULTIPROC_DIR made fresh per start)."""

from __future__ import annotations

import urllib.request
import uuid
from pathlib import Path

from pymongo import MongoClient

from bench.servers import start_server, stop_server
from tests.api.test_observability import _sample

SENT = 30


def test_metrics_aggregate_both_workers(mongo_uri: str, tmp_path: Path) -> None:
    database = f"test_{uuid.uuid4().hex[:12]}"
    process, port = start_server(mongo_uri, tmp_path / "server.log", workers=2, threads=2,
                                 FHIR_DATABASE=database, FHIR_HOME=str(tmp_path / "home"),
                                 FHIR_AUTH_REQUIRED="0", FHIR_LOG_FORMAT="json")
    try:
        base = f"http://127.0.0.1:{port}"
        for _ in range(SENT):
            _get(base + "/metadata")
        text = _get(base + "/metrics")
        assert _sample(text, "fhir_http_requests_total", interaction="capabilities",
                       status="200") == SENT
        files = list((tmp_path / "home" / "metrics").glob("*/counter_*.db"))
        assert files, "no per-process metric files"
    finally:
        stop_server(process)
        with MongoClient(mongo_uri) as client:
            client.drop_database(database)
    log = (tmp_path / "server.log").read_text()
    assert '"route":"/metadata"' in log  # the JSON request log line


def _get(url: str) -> str:
    with urllib.request.urlopen(url, timeout=10) as response:
        return str(response.read().decode())

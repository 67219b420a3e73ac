"""bench/bench_serving.py without its servers (issue 17 point 1: server CPU per request of the
server choices, same-run ratios): the command lines, the medians and the table rows."""

from __future__ import annotations

import json
import sys

import pytest

from bench.bench_serving import (
    CONFIGS,
    DEFAULT,
    FIGURED,
    REFERENCE,
    Config,
    Row,
    bare_command,
    cells,
)
from bench.servers import server_command


def test_the_reference_and_the_default_are_configured() -> None:
    names = [config.name for config in CONFIGS]
    assert REFERENCE in names and DEFAULT in names and len(set(names)) == len(names)
    assert set(FIGURED) <= set(names)
    reference = next(config for config in CONFIGS if config.name == REFERENCE)
    assert (reference.app, reference.workers, reference.threads) == ("bare", 2, 8)
    assert any(config.server == "granian" and config.app == "ours" for config in CONFIGS)


def test_bare_commands() -> None:
    gthread = bare_command(Config("g", "bare", "gunicorn", options={"worker_class": "gthread",
                                                                    "keepalive": 75}), 9000)
    assert gthread[:3] == [sys.executable, "-m", "gunicorn"]
    assert gthread[gthread.index("-k") + 1] == "gthread" and "--keepalive" in gthread
    assert gthread[-1] == "bench.bare_app:app" and "127.0.0.1:9000" in gthread
    granian = bare_command(Config("r", "bare", "granian"), 9001)
    assert granian[0].endswith("granian") and granian[-1] == "bench.bare_app:app"
    assert granian[granian.index("--port") + 1] == "9001"


def test_our_server_commands() -> None:
    serve = server_command("serve", 9000, 2, 8)
    assert serve[2:4] == ["fhir_server.cli", "serve"] and "--threads" in serve
    gunicorn = server_command("gunicorn", 9000, 2, 1, {"worker_class": "sync"})
    assert gunicorn[2] == "bench.servers"
    assert json.loads(gunicorn[3]) == {"bind": "127.0.0.1:9000", "workers": 2, "threads": 1,
                                       "graceful_timeout": 10, "worker_class": "sync"}
    granian = server_command("granian", 9000, 2, 8)
    assert "--factory" in granian and granian[-1] == "fhir_server:create_app"
    with pytest.raises(ValueError, match="unknown server"):
        server_command("uwsgi", 9000, 2, 8)


def test_rows_keep_medians_and_same_run_ratios() -> None:
    row = Row(Config("ours", "ours", "serve"))
    row.healthz = [(1000.0, 300.0, 0.0), (900.0, 500.0, 0.0), (1100.0, 400.0, 0.0)]
    row.read = [(100.0, 600.0, 900.0), (120.0, 520.0, 1000.0), (110.0, 560.0, 950.0)]
    assert cells(row, 800.0) == ("ours", "1000", "400", "0.50", "110", "560", "1.40", "950")
    bare = Row(Config("bare", "bare", "gunicorn"), healthz=[(500.0, 800.0, 0.0)])
    assert cells(bare, 800.0)[2:] == ("800", "1.00", "", "", "", "")

"""bench/bare_app.py: the bare Flask app under gunicorn gthread, issue 17's same-run reference
for the serving stack's CPU per trivial request."""

from __future__ import annotations

from pathlib import Path

from bench.bare_app import app, bare_trivial_cpu


def test_the_bare_app_answers_the_trivial_route() -> None:
    answer = app.test_client().get("/healthz")
    assert (answer.status_code, answer.get_json()) == (200, {"status": "ok"})


def test_server_cpu_per_trivial_request_is_measured_and_the_server_stopped(tmp_path: Path
                                                                           ) -> None:
    log = tmp_path / "bare.log"
    cpu = bare_trivial_cpu(200, log, workers=1, threads=2)
    assert 20 < cpu < 50_000  # µs per request: more than nothing, less than 50 ms
    assert "Booting worker" in log.read_text() and "Shutting down" in log.read_text()

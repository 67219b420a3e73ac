"""The embedded store (fhir_server/embedded.py) leaves its URI beside its data directory while it
runs, so a one-shot command (`fhir-server reminders`, `seed`, `import`) started next to `make run`
uses that server instead of failing on the directory it holds."""

from __future__ import annotations

from pathlib import Path

import pytest

from fhir_server.cli import database
from fhir_server.embedded import EmbeddedStore, running_uri, uri_file


def test_a_second_command_joins_the_running_store(tmp_path: Path,
                                                  monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("MONGODB_URI", raising=False)
    data = tmp_path / "mongo"
    assert running_uri(data) is None
    with EmbeddedStore(data, log_path=tmp_path / "db.log") as store:
        assert uri_file(data).read_text("utf-8") == store.uri
        assert running_uri(data) == store.uri
        with database(data) as uri:  # what a CLI command does beside `make run`
            assert uri == store.uri
    assert not uri_file(data).exists() and running_uri(data) is None


def test_a_stale_uri_file_is_ignored(tmp_path: Path) -> None:
    data = tmp_path / "mongo"
    uri_file(data).write_text("mongodb://127.0.0.1:9/?directConnection=true", "utf-8")
    assert running_uri(data) is None  # nothing answers there: the command starts its own

"""The SMS outbox: stored first, delivered with retry, never silently lost."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

from fhir_server.notify.gateways import FileSink
from fhir_server.notify.outbox import Outbox
from fhir_server.storage.outbox_records import OutboxRecords
from tests.storage.records_db import own_database


class FlakyGateway:
    """Fails the first `failures` sends, then delivers."""

    def __init__(self, failures: int) -> None:
        self.failures = failures
        self.sent: list[tuple[str, str]] = []

    def send(self, phone: str, text: str) -> None:
        if self.failures:
            self.failures -= 1
            raise OSError("provider down")
        self.sent.append((phone, text))


def test_retry_until_delivered(mongo_uri: str) -> None:
    now = [datetime(2026, 1, 1, tzinfo=UTC)]
    with own_database(mongo_uri) as db:
        gateway = FlakyGateway(failures=2)
        records = OutboxRecords(db)
        records.ensure_indexes()
        outbox = Outbox(records, gateway, lambda: now[0])
        outbox.enqueue("+84912345678", "Ma xac thuc: 123456")
        assert gateway.sent == [] and outbox.counts() == {"pending": 1}
        assert outbox.deliver_pending() == 0  # not due yet: backoff
        now[0] += timedelta(minutes=1)
        assert outbox.deliver_pending() == 0  # second failure
        now[0] += timedelta(minutes=5)
        assert outbox.deliver_pending() == 1
        assert gateway.sent == [("+84912345678", "Ma xac thuc: 123456")]
        assert outbox.counts() == {"sent": 1}


def test_file_sink(tmp_path: Path) -> None:
    sink = FileSink(tmp_path / "sms.jsonl")
    sink.send("+84912345678", "Xin chào")
    sink.send("+84987654321", "Hai")
    assert sink.messages("+84912345678") == [{"to": "+84912345678", "text": "Xin chào"}]


def test_http_gateway_posts_json_and_fails_loudly() -> None:
    import json
    import threading
    from http.server import BaseHTTPRequestHandler, HTTPServer

    from fhir_server.notify.gateways import HttpGateway

    received: list[tuple[str, dict[str, str]]] = []

    class Provider(BaseHTTPRequestHandler):
        def do_POST(self) -> None:  # noqa: N802 - http.server's naming
            body = self.rfile.read(int(self.headers["Content-Length"]))
            received.append((self.headers["Authorization"], json.loads(body)))
            self.send_response(200 if self.path == "/ok" else 503)
            self.end_headers()

        def log_message(self, *args: object) -> None:
            pass

    server = HTTPServer(("127.0.0.1", 0), Provider)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    base = f"http://127.0.0.1:{server.server_port}"
    try:
        HttpGateway(f"{base}/ok", "secret-key").send("+84912345678", "Xin chào")
        assert received == [("Bearer secret-key", {"to": "+84912345678", "text": "Xin chào"})]
        try:
            HttpGateway(f"{base}/down", "secret-key").send("+84912345678", "x")
            raise AssertionError("a 503 must raise so that the outbox retries")
        except OSError:
            pass
    finally:
        server.shutdown()


def test_bulk_enqueue_delivers_new_keys_once(mongo_uri: str) -> None:
    """enqueue_many_once: new keys are stored and delivered, a failure waits for its retry,
    and queueing the same keys again sends nothing."""
    now = datetime(2026, 1, 1, tzinfo=UTC)
    with own_database(mongo_uri) as db:
        gateway = FlakyGateway(failures=1)
        records = OutboxRecords(db)
        records.ensure_indexes()
        outbox = Outbox(records, gateway, lambda: now)
        batch = [("sms:a", "+84912345678", "A"), ("sms:b", "+84987654321", "B")]
        assert outbox.enqueue_many_once(batch) == 2
        assert len(gateway.sent) == 1 and outbox.counts() == {"sent": 1, "pending": 1}
        assert outbox.enqueue_many_once(batch) == 0 and len(gateway.sent) == 1
        assert outbox.deliver_pending() == 0  # the failed one waits for its backoff

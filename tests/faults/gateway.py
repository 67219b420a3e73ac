"""A fake SMS provider for the fault tests: an HTTP server that records every message it is
given (FHIR_SMS_GATEWAY=http:URL, notify/gateways.py HttpGateway) and answers slowly, so a kill
lands while a batch is being sent."""

from __future__ import annotations

import json
import threading
import time
from collections import Counter
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any


class FakeGateway:
    """Records {"to", "text"} bodies in arrival order; `delay` seconds per message."""

    def __init__(self, delay: float = 0.05) -> None:
        self.received: list[dict[str, str]] = []
        self.delay = delay
        self._lock = threading.Lock()
        gateway = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:  # noqa: N802 - the http.server API
                body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
                with gateway._lock:
                    gateway.received.append(body)  # taken: the provider will deliver it
                time.sleep(gateway.delay)
                self.send_response(200)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    @property
    def url(self) -> str:
        """FHIR_SMS_GATEWAY for this provider."""
        return f"http:http://127.0.0.1:{self.server.server_address[1]}/sms"

    def count(self) -> int:
        """Messages received so far."""
        with self._lock:
            return len(self.received)

    def per_phone(self) -> Counter[str]:
        """How many messages each phone got."""
        with self._lock:
            return Counter(m["to"] for m in self.received)

    def close(self) -> None:
        """Stop the server."""
        self.server.shutdown()
        self.server.server_close()

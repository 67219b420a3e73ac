"""SMS gateways: a file/console sink for development and tests, and an HTTP adapter."""

from __future__ import annotations

import json
import sys
import threading
import urllib.request
from pathlib import Path
from typing import Protocol


class SmsGateway(Protocol):
    """Delivers one text message; raises on failure so that the outbox retries."""

    def send(self, phone: str, text: str) -> None:
        """Send text to an E.164 phone number."""


class FileSink:
    """Appends each message as one JSON line to a file (development and tests read it)."""

    def __init__(self, path: str | Path) -> None:
        self.path = Path(path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self._lock = threading.Lock()

    def send(self, phone: str, text: str) -> None:
        """Append {"to", "text"} to the file."""
        with self._lock, self.path.open("a", encoding="utf-8") as stream:
            stream.write(json.dumps({"to": phone, "text": text}, ensure_ascii=False) + "\n")

    def messages(self, phone: str | None = None) -> list[dict[str, str]]:
        """Messages written so far (optionally to one phone), oldest first."""
        if not self.path.exists():
            return []
        rows = [json.loads(line) for line in self.path.read_text("utf-8").splitlines() if line]
        return [row for row in rows if phone is None or row["to"] == phone]


class ConsoleSink:
    """Prints messages to standard error (local demos)."""

    def send(self, phone: str, text: str) -> None:
        """Print the message."""
        print(f"[sms to {phone}] {text}", file=sys.stderr, flush=True)


class HttpGateway:
    """POSTs {"to", "text"} as JSON to a provider URL with a bearer key (settings)."""

    def __init__(self, url: str, api_key: str, timeout: float = 10.0) -> None:
        self.url = url
        self.api_key = api_key
        self.timeout = timeout

    def send(self, phone: str, text: str) -> None:
        """Deliver through the provider; any non-2xx answer raises."""
        request = urllib.request.Request(
            self.url, data=json.dumps({"to": phone, "text": text}).encode(),
            headers={"Content-Type": "application/json",
                     "Authorization": f"Bearer {self.api_key}"}, method="POST")
        with urllib.request.urlopen(request, timeout=self.timeout) as response:  # noqa: S310
            if not 200 <= response.status < 300:
                raise OSError(f"SMS gateway answered {response.status}")


def gateway_from_settings(kind: str, target: str, api_key: str = "") -> SmsGateway:
    """Build the configured gateway: file:PATH, console, or http:URL."""
    if kind == "file":
        return FileSink(target)
    if kind == "http":
        return HttpGateway(target, api_key)
    return ConsoleSink()

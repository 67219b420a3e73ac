"""gunicorn for `fhir-server serve`: the worker whose own errors are OperationOutcome JSON.

Issue 12 point 10: gunicorn answers some requests before the app sees them (NUL in a header:
400, request line too long: 414, headers too large: 431) and wrote those as HTML. FhirWorker
(gthread) writes them as FHIR OperationOutcome JSON like every other error. Point 12c: the
control socket (gunicorn >= 25, one shared path per user by default) is disabled, so server
instances never share one.

Issue 17 point 1: a keep-alive connection stays with its thread for the next request when it
comes within LINGER_SECONDS (a client sending requests one after another), instead of going back
to the poller after every answer (unregister, pipe wake-up, re-register, thread hand-off: a third
of gthread's CPU per trivial request on this machine). Past that it returns to the poller, as
gthread does; a stopping worker never lingers.
"""

from __future__ import annotations

import os
import select
import ssl
from collections.abc import Callable
from pathlib import Path
from typing import Any

import orjson
from gunicorn import util
from gunicorn.app.base import BaseApplication
from gunicorn.http import errors
from gunicorn.workers.gthread import ThreadWorker

from fhir_server.metrics import prepare_multiprocess_dir, worker_exited
from fhir_server.rest.errors import HTTP_ISSUE_CODES
from fhir_server.settings import default_home

# gunicorn parse errors whose status is not 400 (every other ParseException is a 400)
_STATUS: tuple[tuple[type[BaseException], int, str], ...] = (
    (errors.LimitRequestLine, 414, "URI Too Long"),
    (errors.LimitRequestHeaders, 431, "Request Header Fields Too Large"),
    (errors.ExpectationFailed, 417, "Expectation Failed"),
    (errors.UnsupportedTransferCoding, 501, "Not Implemented"),
    (errors.ConfigurationProblem, 500, "Internal Server Error"),
    (errors.ForbiddenProxyRequest, 403, "Forbidden"),
    (ssl.SSLError, 403, "Forbidden"),
)
_APP_FAULTS = (errors.InvalidResponseHeader, errors.InvalidResponseHeaderName)
ISSUE_CODES = {**HTTP_ISSUE_CODES, 414: "too-long", 431: "too-long", 417: "not-supported",
               501: "not-supported", 500: "exception"}


def classify(exc: BaseException) -> tuple[int, str, str]:
    """(status, reason, message) of an error gunicorn met outside the application."""
    if isinstance(exc, errors.ParseException | ssl.SSLError) and not isinstance(exc, _APP_FAULTS):
        for kind, status, reason in _STATUS:
            if isinstance(exc, kind):
                return status, reason, str(exc)
        return 400, "Bad Request", str(exc)
    return 500, "Internal Server Error", "Internal server error"


def outcome_bytes(status: int, reason: str, message: str) -> bytes:
    """A complete HTTP/1.1 response carrying an OperationOutcome, connection closed."""
    body = orjson.dumps({"resourceType": "OperationOutcome", "issue": [{
        "severity": "error", "code": ISSUE_CODES.get(status, "invalid"),
        "diagnostics": message[:500] or reason}]})
    head = (f"HTTP/1.1 {status} {reason}\r\nConnection: close\r\n"
            f"Content-Type: application/fhir+json; charset=utf-8\r\n"
            f"Content-Length: {len(body)}\r\n\r\n")
    return head.encode("latin-1") + body


LINGER_SECONDS = 0.002  # how long a thread waits for a keep-alive connection's next request


def next_request_waiting(conn: Any, seconds: float = LINGER_SECONDS) -> bool:
    """True when a keep-alive connection has its next request's bytes within `seconds`
    (already read ahead into the parser's buffer, or readable on the socket)."""
    parser = getattr(conn, "parser", None)
    if getattr(conn, "is_http2", False) or parser is None:
        return False
    buffered = getattr(parser.unreader, "buf", None)
    if buffered is not None and buffered.getvalue():
        return True
    sock = conn.sock
    if isinstance(sock, ssl.SSLSocket) and sock.pending():
        return True
    try:
        poller = select.poll()
        poller.register(sock.fileno(), select.POLLIN)
        return bool(poller.poll(seconds * 1000))
    except (OSError, ValueError):  # closed meanwhile
        return False


class SettledConfig:
    """A worker's gunicorn settings, each read once: gunicorn looks a dozen of them up on every
    request through Config.__getattr__, and a worker never changes them."""

    def __init__(self, cfg: Any) -> None:
        self.__dict__["_cfg"] = cfg

    def __getattr__(self, name: str) -> Any:
        value = getattr(self.__dict__["_cfg"], name)
        self.__dict__[name] = value
        return value

    def set(self, name: str, value: Any) -> None:
        """Change a setting (gunicorn's Config.set), forgetting the value read before."""
        self.__dict__["_cfg"].set(name, value)
        self.__dict__.pop(name, None)


class FhirWorker(ThreadWorker):
    """gunicorn's threaded worker, with its own error answers as OperationOutcome JSON and
    keep-alive connections kept on their thread while requests follow each other."""

    def init_process(self) -> None:
        """In the worker process: settings read once each, then gunicorn's start."""
        self.cfg = SettledConfig(self.cfg)  # type: ignore[has-type]  # gunicorn is untyped
        super().init_process()

    def handle(self, conn: Any) -> Any:
        """Serve the connection's request, then the next ones while they come at once (no
        waiting while other connections wait for a thread)."""
        keep = super().handle(conn)
        while keep is True and self.alive and next_request_waiting(
                conn, 0.0 if self._others_waiting() else LINGER_SECONDS):
            keep = super().handle(conn)
        return keep

    def _others_waiting(self) -> bool:
        """True when requests of other connections are queued for a thread."""
        queue = getattr(self.tpool, "_work_queue", None)
        return bool(queue is not None and not queue.empty())

    def handle_error(self, req: Any, client: Any, addr: Any, exc: BaseException) -> None:
        """Log like gunicorn, then answer OperationOutcome JSON instead of an HTML page."""
        status, reason, message = classify(exc)
        ip = (addr or ("", -1))[0]
        if status == 500:
            # the path only: a query string may carry personal data (issue 16 point 2)
            self.log.exception("Error handling request %s",
                               getattr(req, "path", None) or "(no URI read)")
        else:
            self.log.warning("Invalid request from ip=%s: %s", ip, exc)
        try:
            util.write_nonblock(client, outcome_bytes(status, reason, message))
        except Exception:  # noqa: BLE001 - the client may already be gone
            self.log.debug("Failed to send error message.")


WORKER = f"{__name__}.FhirWorker"


def _child_exit(server: Any, worker: Any) -> None:
    """gunicorn child_exit hook: the dead worker's metric files stop counting as live."""
    worker_exited(worker.pid)


class Server(BaseApplication):
    """gunicorn running the FHIR app with FhirWorker and no control socket."""

    def __init__(self, load_app: Callable[[], Any], options: dict[str, Any]) -> None:
        self.load_app = load_app
        self.options = options
        super().__init__()

    def load_config(self) -> None:
        """Our settings: FhirWorker, no shared control socket, then the caller's options."""
        self.cfg.set("worker_class", WORKER)
        self.cfg.set("control_socket_disable", True)
        # issue 16 point 2: per-process metric files in a fresh directory, merged by /metrics
        prepare_multiprocess_dir(Path(default_home()) / "metrics" / str(os.getpid()))
        self.cfg.set("child_exit", _child_exit)
        for key, value in self.options.items():
            self.cfg.set(key, value)

    def load(self) -> Any:
        """The WSGI app (built in each worker after the fork)."""
        return self.load_app()

"""A local append-only spool of AuditEvents: written before a request is answered, replayed
after a crash or a database outage (FHIR_AUDIT_SPOOL_DIR).

Each spool (one per worker process) has a name `<pid>-<hex>` and holds an exclusive `flock` on
`<name>.lock` for its lifetime; the kernel releases it when the process dies, even on SIGKILL.
Events are appended as JSON lines to segment files `<name>.<seq>.jsonl` with one `write` per
line on an O_APPEND descriptor (a killed process leaves whole lines; a power loss may leave one
torn line at the end, which replay skips with a warning). The store thread fsyncs the segments
written since its last attempt before each store attempt (group commit) and, once a batch is
stored, either deletes a segment whose events are all stored or appends an ack line
`{"ack": [ids]}` to it. A new spool, under the directory lock `spool.lock`, adopts the segments
of every owner whose lock is free (a dead process) by atomic rename into its own name, and
`replay` returns the events of those segments that were never acknowledged.
"""

from __future__ import annotations

import fcntl
import logging
import os
import secrets
import threading
from collections.abc import Iterable, Iterator
from contextlib import contextmanager, suppress
from pathlib import Path
from typing import Any

import orjson

log = logging.getLogger(__name__)
SEGMENT_EVENTS = 1000  # a segment takes no more events after this many (bounds a replay)
DIR_LOCK = "spool.lock"


class Segment:
    """One spool file: its descriptor and how many of its events are not yet stored."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.fd: int | None = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600)
        self.written = 0
        self.unacked = 0

    def write(self, data: bytes) -> None:
        """Append bytes with as few write calls as the kernel allows (normally one)."""
        assert self.fd is not None
        view = memoryview(data)
        while view:
            view = view[os.write(self.fd, view):]

    def delete(self) -> None:
        """Close and remove the file (every event in it is stored)."""
        if self.fd is not None:
            os.close(self.fd)
            self.fd = None
        with suppress(FileNotFoundError):
            self.path.unlink()


def _owner(path: Path) -> str:
    return path.name.split(".", 1)[0]


class AuditSpool:
    """The spool files of one process, in a directory shared by every worker of a host."""

    def __init__(self, directory: str | Path) -> None:
        self.directory = Path(directory)
        self.directory.mkdir(parents=True, exist_ok=True)
        self.name = f"{os.getpid()}-{secrets.token_hex(4)}"
        self._lock = threading.Lock()
        self._seq = 0
        self._current: Segment | None = None
        self._dirty: set[Segment] = set()
        self._open: set[Segment] = set()
        with self._directory_locked():
            self._owner_fd: int | None = os.open(
                self.directory / f"{self.name}.lock", os.O_RDWR | os.O_CREAT, 0o600)
            fcntl.flock(self._owner_fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            self._adopted = self._adopt()

    @contextmanager
    def _directory_locked(self) -> Iterator[None]:
        fd = os.open(self.directory / DIR_LOCK, os.O_RDWR | os.O_CREAT, 0o600)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX)
            yield
        finally:
            os.close(fd)

    def _next_path(self) -> Path:
        self._seq += 1
        return self.directory / f"{self.name}.{self._seq:06d}.jsonl"

    def _adopt(self) -> list[Path]:
        """Rename the segments of dead owners into this spool (caller holds the dir lock)."""
        owners = {_owner(p) for p in self.directory.iterdir()
                  if p.suffix in (".lock", ".jsonl") and p.name != DIR_LOCK}
        adopted: list[Path] = []
        for owner in sorted(owners - {self.name}):
            lock_path = self.directory / f"{owner}.lock"
            fd: int | None = None
            with suppress(FileNotFoundError):
                fd = os.open(lock_path, os.O_RDWR)
            try:
                if fd is not None:
                    try:
                        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                    except BlockingIOError:
                        continue  # its process is alive
                for segment in sorted(self.directory.glob(f"{owner}.*.jsonl")):
                    target = self._next_path()
                    os.replace(segment, target)
                    adopted.append(target)
                with suppress(FileNotFoundError):
                    lock_path.unlink()
            finally:
                if fd is not None:
                    os.close(fd)
        if adopted:
            log.warning("audit spool %s adopted %d segment(s) of stopped workers",
                        self.name, len(adopted))
        return adopted

    def replay(self) -> list[tuple[Segment, dict[str, Any]]]:
        """The unacknowledged events of the adopted segments (each once), oldest first."""
        pending: list[tuple[Segment, dict[str, Any]]] = []
        for path in self._adopted:
            events, acked, torn_end = _read(path)
            todo = [e for e in events if e.get("id") not in acked]
            segment = Segment(path)
            if torn_end:
                segment.write(b"\n")  # ack lines must not run into a torn last line
            if not todo:
                segment.delete()
                continue
            segment.written = segment.unacked = len(todo)
            with self._lock:
                self._open.add(segment)
            pending.extend((segment, event) for event in todo)
        self._adopted = []
        return pending

    def append(self, event: dict[str, Any]) -> Segment:
        """Write one event (it has an id) to the current segment before it is acknowledged."""
        line = orjson.dumps(event) + b"\n"
        with self._lock:
            segment = self._current
            if segment is None or segment.written >= SEGMENT_EVENTS:
                segment = self._current = Segment(self._next_path())
                self._open.add(segment)
            segment.write(line)
            segment.written += 1
            segment.unacked += 1
            self._dirty.add(segment)
            return segment

    def sync(self) -> None:
        """fsync every segment written since the last call (appends go on meanwhile)."""
        with self._lock:
            fds = [os.dup(s.fd) for s in self._dirty if s.fd is not None]
            self._dirty.clear()
        for fd in fds:
            try:
                os.fsync(fd)
            finally:
                os.close(fd)

    def ack(self, stored: Iterable[tuple[Segment | None, dict[str, Any]]]) -> None:
        """Mark stored events: delete segments left with none unstored, else note their ids."""
        by_segment: dict[Segment, list[str]] = {}
        for segment, event in stored:
            if segment is not None:
                by_segment.setdefault(segment, []).append(str(event.get("id")))
        with self._lock:
            for segment, ids in by_segment.items():
                if segment.fd is None:
                    continue
                segment.unacked -= len(ids)
                if segment.unacked <= 0:
                    segment.delete()
                    self._open.discard(segment)
                    self._dirty.discard(segment)
                    if segment is self._current:
                        self._current = None
                else:
                    segment.write(orjson.dumps({"ack": ids}) + b"\n")

    def files(self) -> list[Path]:
        """This spool's segment files (tests, monitoring)."""
        with self._lock:
            return sorted(s.path for s in self._open if s.fd is not None)

    def close(self) -> None:
        """Close the files, keeping unstored segments for the next spool to adopt."""
        with self._lock:
            for segment in self._open:
                if segment.fd is not None:
                    os.close(segment.fd)
                    segment.fd = None
            self._open.clear()
            self._dirty.clear()
            self._current = None
            if self._owner_fd is not None:
                with suppress(FileNotFoundError):
                    (self.directory / f"{self.name}.lock").unlink()
                os.close(self._owner_fd)
                self._owner_fd = None


def _read(path: Path) -> tuple[list[dict[str, Any]], set[str], bool]:
    """A segment's events, acknowledged ids and whether its last line is torn (unreadable
    lines are skipped with a warning)."""
    events: list[dict[str, Any]] = []
    acked: set[str] = set()
    seen: set[str] = set()
    line = b"\n"
    with open(path, "rb") as handle:
        for number, line in enumerate(handle, 1):
            try:
                item = orjson.loads(line)
            except orjson.JSONDecodeError:
                log.warning("audit spool %s:%d: unreadable line skipped (torn write?)",
                            path.name, number)
                continue
            if isinstance(item, dict) and isinstance(item.get("ack"), list):
                acked.update(str(i) for i in item["ack"])
            elif isinstance(item, dict) and item.get("resourceType") == "AuditEvent":
                if str(item.get("id")) not in seen:
                    seen.add(str(item.get("id")))
                    events.append(item)
            else:
                log.warning("audit spool %s:%d: not an AuditEvent, skipped", path.name, number)
    return events, acked, not line.endswith(b"\n")

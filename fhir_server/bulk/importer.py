"""`fhir-server import PATH`: load NDJSON files and Bundle files straight through the
interactions layer (no HTTP), with a progress bar, a resumable checkpoint and an error file.

- NDJSON (`*.ndjson`, `*.ndjson.gz`, `*.jsonl`): one resource per line, written in chunks (one
  database transaction each, see import_lines.py); a line holding a transaction/batch Bundle is
  processed as that Bundle.
- Bundle files (`*.json`): each is a transaction or batch, processed exactly as `POST [base]`.
- Bad lines and failed Bundles go to the error file as `path:line: message`; the import goes on.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any

from tqdm import tqdm

from fhir_server.bulk.bundle_tools import Skipped, dedupe_entries, skip_unsupported
from fhir_server.bulk.checkpoint import Checkpoint
from fhir_server.bulk.import_lines import LinesOutcome, LineWriter, describe
from fhir_server.bulk.sources import Source, count_lines, discover, numbered_lines, open_text
from fhir_server.errors import FhirError
from fhir_server.interactions.bundle_process import process_bundle
from fhir_server.interactions.context import Services
from fhir_server.model.jsonio import loads


@dataclass
class ImportOptions:
    """How to import: rewrites, chunking, progress display."""

    dedupe: bool = False
    skip_unsupported: bool = False
    chunk_size: int = 100
    progress: bool = True


@dataclass
class ImportStats:
    """The totals of an import run."""

    created: int = 0
    updated: int = 0
    unchanged: int = 0
    failed: int = 0
    bundles: int = 0
    skipped: Skipped = field(default_factory=Skipped)
    seconds: float = 0.0

    @property
    def resources(self) -> int:
        """Resources stored or found (deduplicated) in this run."""
        return self.created + self.updated + self.unchanged

    @property
    def rate(self) -> float:
        """Resources per second."""
        return self.resources / self.seconds if self.seconds > 0 else 0.0

    def summary(self) -> str:
        """A human summary line."""
        text = (f"{self.resources} resources ({self.created} created, {self.updated} updated, "
                f"{self.unchanged} found/deduplicated) from {self.bundles} bundles and NDJSON "
                f"lines in {self.seconds:.1f} s = {self.rate:.0f} resources/s; "
                f"{self.failed} failed")
        if self.skipped.types:
            kinds = ", ".join(f"{t} {n}" for t, n in sorted(self.skipped.types.items()))
            text += (f"; skipped unsupported: {kinds} "
                     f"({self.skipped.references} references to them removed)")
        return text


class Importer:
    """One import run over a path."""

    def __init__(self, svc: Services, options: ImportOptions, checkpoint: Checkpoint,
                 errors: IO[str]) -> None:
        self.svc = svc
        self.options = options
        self.checkpoint = checkpoint
        self.errors = errors
        self.stats = ImportStats()
        self.lines = LineWriter(svc, checkpoint.aliases, options.dedupe, options.skip_unsupported)

    def run(self, path: Path) -> ImportStats:
        """Import every file under the path, skipping what the checkpoint says is done."""
        sources = discover(path)
        sizes = {s.key: count_lines(s.path) if s.kind == "ndjson" else 1 for s in sources}
        done = sum(size if self.checkpoint.done(key) else min(self.checkpoint.line(key), size)
                   for key, size in sizes.items())
        started = time.perf_counter()
        with tqdm(total=sum(sizes.values()), initial=done, unit="item", dynamic_ncols=True,
                  disable=not self.options.progress, desc="import") as bar:
            for source in sources:
                if self.checkpoint.done(source.key):
                    continue
                if source.kind == "ndjson":
                    self._ndjson(source, bar, started)
                else:
                    self._json_file(source)
                    bar.update(1)
                self.checkpoint.finish(source.key)
                self._show(bar, started)
        self.stats.seconds = time.perf_counter() - started
        return self.stats

    def _show(self, bar: Any, started: float) -> None:
        elapsed = max(time.perf_counter() - started, 1e-9)
        bar.set_postfix_str(f"{self.stats.resources / elapsed:.0f} res/s, "
                            f"{self.stats.failed} failed", refresh=False)

    def _ndjson(self, source: Source, bar: Any, started: float) -> None:
        chunk: list[tuple[int, bytes]] = []
        for number, raw in numbered_lines(source.path, self.checkpoint.line(source.key)):
            chunk.append((number, raw))
            if len(chunk) >= self.options.chunk_size:
                self._chunk(source, chunk, bar, started)
                chunk = []
        if chunk:
            self._chunk(source, chunk, bar, started)

    def _chunk(self, source: Source, chunk: list[tuple[int, bytes]], bar: Any,
               started: float) -> None:
        """Write a chunk of lines, then record it in the checkpoint."""
        group: list[tuple[int, Any]] = []
        for number, raw in chunk:
            try:
                item = loads(raw)
            except FhirError as error:
                self._error(source, number, describe(error))
                continue
            if isinstance(item, dict) and item.get("resourceType") == "Bundle":
                self._merge(source, self.lines.write(group))
                group = []
                self._bundle(source, number, item)
            else:
                group.append((number, item))
        self._merge(source, self.lines.write(group) if group else LinesOutcome())
        self.errors.flush()
        self.checkpoint.advance(source.key, chunk[-1][0])
        bar.update(len(chunk))
        self._show(bar, started)

    def _json_file(self, source: Source) -> None:
        """A JSON file: a Bundle (transaction or batch), or a single resource."""
        try:
            item = loads(_read(source.path))
        except FhirError as error:
            self._error(source, 1, describe(error))
            return
        if isinstance(item, dict) and item.get("resourceType") == "Bundle":
            self._bundle(source, 1, item)
        else:
            self._merge(source, self.lines.write([(1, item)]))
        self.errors.flush()

    def _merge(self, source: Source, outcome: LinesOutcome) -> None:
        self.stats.created += outcome.created
        self.stats.updated += outcome.updated
        self.stats.unchanged += outcome.unchanged
        self.stats.skipped.types.update(outcome.skipped)
        self.checkpoint.aliases.update(outcome.aliases)
        for number, message in outcome.errors:
            self._error(source, number, message)

    def _error(self, source: Source, number: int, message: str) -> None:
        self.stats.failed += 1
        self.errors.write(f"{source.path}:{number}: {message}\n")

    def _bundle(self, source: Source, number: int, bundle: Any) -> None:
        """Process one Bundle (transaction or batch) as POST [base] would."""
        if isinstance(bundle, dict) and bundle.get("resourceType") == "Bundle":
            if self.options.skip_unsupported:
                bundle, skipped = skip_unsupported(bundle)
                self.stats.skipped.add(skipped)
            if self.options.dedupe:
                dedupe_entries(bundle)
        try:
            response = process_bundle(self.svc, bundle, "minimal")
        except FhirError as error:
            self._error(source, number, describe(error))
            return
        self.stats.bundles += 1
        requests = [e.get("request", {}) for e in bundle.get("entry", [])]
        for request, answer in zip(requests, response["entry"], strict=False):
            status = answer["response"]["status"]
            if status.startswith("201"):
                self.stats.created += 1
            elif status.startswith("200") and request.get("method") == "POST":
                self.stats.unchanged += 1
            elif status.startswith("2"):
                self.stats.updated += 1
            else:
                issues = answer["response"].get("outcome", {}).get("issue", [])
                text = "; ".join(str(i.get("diagnostics", "")) for i in issues) or status
                self._error(source, number, f"{status}: {text}")


def _read(path: Path) -> bytes:
    with open_text(path) as stream:
        return stream.read()


@contextmanager
def error_file(path: Path, fresh: bool) -> Iterator[IO[str]]:
    """The error file, truncated for a fresh import and appended to when resuming."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("w" if fresh else "a", encoding="utf-8") as stream:
        yield stream

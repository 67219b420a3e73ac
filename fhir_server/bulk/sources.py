"""What an import reads: NDJSON files (one resource per line) and Bundle JSON files."""

from __future__ import annotations

import gzip
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import IO

NDJSON_SUFFIXES = (".ndjson", ".ndjson.gz", ".jsonl")
JSON_SUFFIXES = (".json", ".json.gz")
FIRST_TYPES = ("Organization", "Practitioner", "Location", "Patient")  # referenced by others


@dataclass(frozen=True)
class Source:
    """One input file: its path, its kind (ndjson or bundle) and its checkpoint key."""

    path: Path
    kind: str
    key: str


def _kind(path: Path) -> str | None:
    name = path.name.lower()
    if name.endswith(NDJSON_SUFFIXES):
        return "ndjson"
    if name.endswith(JSON_SUFFIXES):
        return "bundle"
    return None


def _order(source: Source) -> tuple[int, int, str]:
    """Referenced types first (so --dedupe aliases exist before they are needed), then by name;
    NDJSON files before Bundle files."""
    stem = source.path.name.split(".", 1)[0]
    rank = next((i for i, t in enumerate(FIRST_TYPES) if stem.startswith(t)), len(FIRST_TYPES))
    return (0 if source.kind == "ndjson" else 1, rank, source.key)


def discover(path: Path) -> list[Source]:
    """The files to import under a path (a file, or a directory searched recursively)."""
    path = path.resolve()
    if path.is_file():
        return [Source(path, _kind(path) or "ndjson", path.name)]
    if not path.is_dir():
        raise FileNotFoundError(f"{path} does not exist")
    found = []
    for item in sorted(path.rglob("*")):
        kind = _kind(item) if item.is_file() and not item.name.startswith(".") else None
        if kind is not None:
            found.append(Source(item, kind, str(item.relative_to(path))))
    return sorted(found, key=_order)


def open_text(path: Path) -> IO[bytes]:
    """The file's bytes (gunzipped when it ends in .gz)."""
    if path.name.endswith(".gz"):
        return gzip.open(path, "rb")  # type: ignore[return-value]
    return path.open("rb")


def count_lines(path: Path) -> int:
    """How many non-empty lines an NDJSON file holds (for the progress bar)."""
    with open_text(path) as stream:
        return sum(1 for line in stream if line.strip())


def numbered_lines(path: Path, after: int = 0) -> Iterator[tuple[int, bytes]]:
    """(line number, content) of the non-empty lines after line `after` (1-based numbers)."""
    with open_text(path) as stream:
        for number, line in enumerate(stream, start=1):
            if number > after and line.strip():
                yield number, line

"""The import checkpoint: which files (and lines) are done, so a rerun resumes after them.

A JSON file, rewritten atomically (temporary file + rename) after every committed chunk:
  {"source": "/abs/input", "files": {"a.ndjson": {"line": 1200}, "b.json": {"done": true}},
   "aliases": {"Organization/x": "Organization/y"}}
The database commit comes first, so an interruption between the two replays at most one chunk;
NDJSON resources with ids are upserts (a replay stores an identical new version).
"""

from __future__ import annotations

import hashlib
import json
import os
from pathlib import Path
from typing import Any

from fhir_server.settings import default_home


def default_dir() -> Path:
    """Where checkpoints live by default: import/ inside FHIR_HOME (never the working folder)."""
    return Path(default_home()) / "import"


def default_paths(source: Path) -> tuple[Path, Path]:
    """The default checkpoint and error file of an input path (FHIR_HOME/import/<name>-<hash>.*)."""
    resolved = source.resolve()
    tag = f"{resolved.name or 'root'}-{hashlib.sha256(str(resolved).encode()).hexdigest()[:10]}"
    folder = default_dir()
    return folder / f"{tag}.checkpoint.json", folder / f"{tag}.errors.txt"


class Checkpoint:
    """Progress of one import, persisted to a JSON file."""

    def __init__(self, path: Path, source: Path, data: dict[str, Any] | None = None) -> None:
        self.path = path
        self.data: dict[str, Any] = data or {"source": str(source.resolve()), "files": {},
                                             "aliases": {}}

    @classmethod
    def load(cls, path: Path, source: Path, restart: bool = False) -> Checkpoint:
        """The saved progress of this source (a fresh one with restart or none saved)."""
        if restart or not path.exists():
            return cls(path, source)
        data = json.loads(path.read_text("utf-8"))
        if data.get("source") != str(source.resolve()):
            raise ValueError(f"checkpoint {path} belongs to {data.get('source')}, not "
                             f"{source.resolve()}: pass --restart or another --checkpoint")
        data.setdefault("files", {})
        data.setdefault("aliases", {})
        return cls(path, source, data)

    @property
    def resumed(self) -> bool:
        """True when some work was already recorded."""
        return bool(self.data["files"])

    def done(self, key: str) -> bool:
        """True when the whole file was imported."""
        return bool(self.data["files"].get(key, {}).get("done"))

    def line(self, key: str) -> int:
        """The last line of the file already committed (0: none)."""
        return int(self.data["files"].get(key, {}).get("line", 0))

    def advance(self, key: str, line: int) -> None:
        """Record that the file is committed up to this line (and save)."""
        self.data["files"][key] = {"line": line}
        self.save()

    def finish(self, key: str) -> None:
        """Record that the whole file is done (and save)."""
        self.data["files"][key] = {"done": True}
        self.save()

    @property
    def aliases(self) -> dict[str, str]:
        """Type/id in the input -> Type/id stored (resources deduplicated by --dedupe)."""
        aliases: dict[str, str] = self.data["aliases"]
        return aliases

    def save(self) -> None:
        """Write the checkpoint atomically."""
        self.path.parent.mkdir(parents=True, exist_ok=True)
        temporary = self.path.with_name(self.path.name + ".tmp")
        temporary.write_text(json.dumps(self.data, ensure_ascii=False), "utf-8")
        os.replace(temporary, self.path)

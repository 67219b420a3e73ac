"""Secret files written once, atomically, with 0600 permissions (safe when workers race)."""

from __future__ import annotations

import os
import tempfile
from pathlib import Path


def write_once(path: Path, data: bytes) -> bytes:
    """Create `path` holding `data` unless it exists; return what the file holds."""
    path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
    if not path.exists():
        fd, temporary = tempfile.mkstemp(dir=path.parent, prefix=".new-")
        try:
            os.fchmod(fd, 0o600)
            with os.fdopen(fd, "wb") as stream:
                stream.write(data)
            os.link(temporary, path)  # atomic: fails if another process won the race
        except FileExistsError:
            pass
        finally:
            os.unlink(temporary)
    return path.read_bytes()

"""The official HL7 FHIR R4 examples npm package, fetched once and unpacked into var/cache."""

from __future__ import annotations

import base64
import fcntl
import hashlib
import json
import shutil
import subprocess
import tarfile
import tempfile
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any

PACKAGE_NAME = "hl7.fhir.r4.examples"
PACKAGE_VERSION = "4.0.1"
PACKAGE_INTEGRITY = (
    "sha512-DXBdIZOeQaSKIgCU7w6HOC7sw/6BzylmipLkBW4f//pT+Bc94x+8LImwTdvaNThPJoOzpBzvxAzNqjeu3X/zLw=="
)
PACKAGE_SPEC = f"{PACKAGE_NAME}@{PACKAGE_VERSION}"
PACKAGE_DIR_NAME = f"{PACKAGE_NAME}-{PACKAGE_VERSION}"
REPO_ROOT = Path(__file__).resolve().parents[2]
DEFAULT_CACHE_DIR = REPO_ROOT / "var" / "cache"
_COMPLETE_MARKER = ".complete"


class PackageError(RuntimeError):
    """The examples package could not be fetched, verified or unpacked."""


def ensure_examples_package(cache_dir: Path | None = None) -> Path:
    """Return the unpacked package folder (holding package/), fetching it on first use."""
    cache = Path(cache_dir) if cache_dir is not None else DEFAULT_CACHE_DIR
    target = cache / PACKAGE_DIR_NAME
    if (target / _COMPLETE_MARKER).is_file():
        return target
    cache.mkdir(parents=True, exist_ok=True)
    with open(cache / f".{PACKAGE_DIR_NAME}.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)  # one fetch even when test workers race
        if not (target / _COMPLETE_MARKER).is_file():
            _unpack(_verified_tarball(cache), target)
    return target


def _verified_tarball(cache: Path) -> Path:
    """The package tarball in the cache, downloaded with `npm pack` unless already there."""
    tarball = cache / f"{PACKAGE_DIR_NAME}.tgz"
    if tarball.is_file() and _integrity_of(tarball) == PACKAGE_INTEGRITY:
        return tarball
    with tempfile.TemporaryDirectory(dir=cache) as download_dir:
        command = ["npm", "pack", PACKAGE_SPEC, "--silent", "--pack-destination", download_dir]
        try:
            subprocess.run(command, check=True, capture_output=True, timeout=600)
        except (OSError, subprocess.SubprocessError) as exc:
            raise PackageError(f"npm pack {PACKAGE_SPEC} failed: {exc}") from exc
        downloaded = list(Path(download_dir).glob("*.tgz"))
        if len(downloaded) != 1:
            raise PackageError(f"npm pack {PACKAGE_SPEC} produced {len(downloaded)} tarballs")
        integrity = _integrity_of(downloaded[0])
        if integrity != PACKAGE_INTEGRITY:
            raise PackageError(f"{PACKAGE_SPEC}: integrity {integrity} != {PACKAGE_INTEGRITY}")
        downloaded[0].replace(tarball)
    return tarball


def _integrity_of(path: Path) -> str:
    """The npm-style Subresource Integrity string (sha512, base64) of a file."""
    digest = hashlib.sha512()
    with open(path, "rb") as stream:
        for chunk in iter(lambda: stream.read(1 << 20), b""):
            digest.update(chunk)
    return "sha512-" + base64.b64encode(digest.digest()).decode("ascii")


def _unpack(tarball: Path, target: Path) -> None:
    """Extract the tarball (regular files and folders only) and move it into place atomically."""
    staging = Path(tempfile.mkdtemp(dir=target.parent, prefix=f".{PACKAGE_DIR_NAME}-"))
    try:
        with tarfile.open(tarball, "r:gz") as archive:
            members = [m for m in archive.getmembers() if m.isfile() or m.isdir()]
            for member in members:
                parts = Path(member.name).parts
                if member.name.startswith("/") or ".." in parts or not parts:
                    raise PackageError(f"unsafe path in {tarball.name}: {member.name!r}")
            archive.extractall(staging, members=members, filter="data")
        staging.chmod(0o755)
        (staging / _COMPLETE_MARKER).write_text(PACKAGE_INTEGRITY + "\n")
        if target.exists():
            shutil.rmtree(target)
        staging.rename(target)
    finally:
        if staging.exists():
            shutil.rmtree(staging)


def iter_examples(
    types: Iterable[str], package_dir: Path | None = None
) -> Iterator[tuple[str, dict[str, Any]]]:
    """Yield (file name, resource) for the package's top-level resources of the given types."""
    wanted = set(types)
    root = (package_dir or ensure_examples_package()) / "package"
    for path in sorted(root.glob("*-*.json")):
        if path.name.split("-", 1)[0] not in wanted:
            continue
        resource = json.loads(path.read_bytes())
        if isinstance(resource, dict) and resource.get("resourceType") in wanted:
            yield path.name, resource


def main() -> None:
    """Fetch the package if needed and print where it is."""
    print(ensure_examples_package())


if __name__ == "__main__":
    main()

"""The peer server of the same-run comparison (bench/bench_peers.py): sekmet (PyPI `sekmet-fhir`,
a FastAPI + SQLite FHIR R4 server) in its own virtualenv, var/bench-peers/venv, because its
dependencies (FastAPI, uvicorn, its own pydantic range) are not ours. Installed from PyPI with
pip at set-up time (`make bench` runs `python bench/peer_setup.py` first); nothing is downloaded
while a bench runs. fhir.resources is pinned to our version so both servers validate with the
same library.

Run: .venv/bin/python bench/peer_setup.py [--venv DIR]   (prints the venv's python; exit 1 when
the install failed — the peer bench then says so and skips the peer)
"""

from __future__ import annotations

import argparse
import subprocess
import sys
from importlib import metadata
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
VENV = ROOT / "var/bench-peers/venv"
SEKMET = "sekmet-fhir==0.1.1"


def requirements() -> list[str]:
    """What the peer venv holds: sekmet, its ASGI server, and our fhir.resources version."""
    try:
        ours = f"fhir.resources=={metadata.version('fhir.resources')}"
    except metadata.PackageNotFoundError:
        ours = "fhir.resources>=8,<9"
    return [SEKMET, "uvicorn[standard]", ours]


def venv_python(venv: Path = VENV) -> Path:
    """The peer venv's interpreter."""
    return venv / "bin" / "python"


def stamp(venv: Path = VENV) -> Path:
    """The file naming what was installed (written after a complete install)."""
    return venv / ".installed"


def installed(venv: Path = VENV) -> bool:
    """True when the venv holds a complete install of today's requirements."""
    return (venv_python(venv).exists() and stamp(venv).exists()
            and stamp(venv).read_text("utf-8").split() == requirements())


def ensure_venv(venv: Path = VENV, quiet: bool = True) -> Path:
    """Create the venv and install the requirements unless already done; its python."""
    if installed(venv):
        return venv_python(venv)
    venv.parent.mkdir(parents=True, exist_ok=True)
    subprocess.run([sys.executable, "-m", "venv", "--clear", str(venv)], check=True)
    pip = [str(venv_python(venv)), "-m", "pip", "install", "--disable-pip-version-check"]
    subprocess.run([*pip, *(["--quiet"] if quiet else []), *requirements()], check=True)
    stamp(venv).write_text(" ".join(requirements()) + "\n", "utf-8")
    return venv_python(venv)


def peer_versions(python: Path) -> str:
    """The versions of the peer's packages, as its venv reports them."""
    code = ("from importlib.metadata import version as v; import sqlite3; "
            "print(' '.join(f'{n} {v(n)}' for n in ('sekmet-fhir', 'fastapi', 'uvicorn', "
            "'fhir.resources', 'pydantic')), 'SQLite', sqlite3.sqlite_version)")
    result = subprocess.run([str(python), "-c", code], capture_output=True, text=True,
                            check=False)
    return result.stdout.strip() or f"(versions unknown: {result.stderr.strip()[-200:]})"


def main() -> int:
    """Install the peer venv (if needed) and print its python."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--venv", type=Path, default=VENV)
    args = parser.parse_args()
    try:
        python = ensure_venv(args.venv, quiet=True)
    except (OSError, subprocess.CalledProcessError) as error:
        print(f"peer set-up failed ({error}); bench_peers will skip the peer", file=sys.stderr)
        return 1
    print(f"peer venv: {python} ({peer_versions(python)})")
    return 0


if __name__ == "__main__":
    sys.exit(main())

"""`make bench`: run every benchmark module (bench/bench_*.py) in turn."""

from __future__ import annotations

import runpy
import sys
from pathlib import Path


def main() -> int:
    """Run each bench_*.py as a script; a failing one does not stop the others."""
    failures = 0
    for script in sorted(Path(__file__).parent.glob("bench_*.py")):
        print(f"\n=== {script.name} ===", flush=True)
        try:
            runpy.run_path(str(script), run_name="__main__")
        except SystemExit as exc:
            failures += 1 if exc.code not in (None, 0) else 0
        except Exception as exc:  # noqa: BLE001 - report and go on with the next benchmark
            print(f"{script.name} failed: {exc!r}", flush=True)
            failures += 1
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())

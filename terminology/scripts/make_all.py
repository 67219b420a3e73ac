"""Regenerate every terminology resource: python terminology/scripts/make_all.py [OUT_DIR]."""

from __future__ import annotations

import sys
from pathlib import Path

import make_admin_units
import make_fhir_core
import make_priority_groups
import make_reactions
import make_vaccines
from _common import DEFAULT_OUT

GENERATORS = [make_admin_units, make_fhir_core, make_priority_groups, make_reactions,
              make_vaccines]


def main(out: Path = DEFAULT_OUT) -> list[Path]:
    """Run every generator into `out`; return the files written (sorted)."""
    paths: list[Path] = []
    for gen in GENERATORS:
        paths += gen.main(out)
    return sorted(paths)


if __name__ == "__main__":
    target = Path(sys.argv[1]) if len(sys.argv) > 1 else DEFAULT_OUT
    files = main(target)
    total = sum(p.stat().st_size for p in files)
    for p in files:
        print(f"{p.stat().st_size:>10}  {p.relative_to(target)}")
    print(f"{total:>10}  total ({len(files)} files)")

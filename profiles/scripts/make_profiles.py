"""Generate profiles/: StructureDefinitions (differential + snapshot), Questionnaires, ValueSets,
SearchParameters, the indicator Measures and their CodeSystem.

    .venv/bin/python profiles/scripts/make_profiles.py          # write the files
    .venv/bin/python profiles/scripts/make_profiles.py --check  # exit 1 if any file is stale

The base definitions come from the official R4 package (hl7.fhir.r4.examples 4.0.1, fetched
once into var/cache by fhir_server.spec.package). Output is deterministic.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(1, str(Path(__file__).resolve().parents[2]))

from campaign_search import campaign_search_parameters  # noqa: E402
from common import ROOT, dump  # noqa: E402
from measures import all_measures  # noqa: E402
from questionnaires import all_questionnaires, search_parameters, value_sets  # noqa: E402
from structure_definitions import all_structure_definitions  # noqa: E402

FOLDERS = {"StructureDefinition": "structuredefinitions", "Questionnaire": "questionnaires",
           "ValueSet": "valuesets", "SearchParameter": "searchparameters",
           "Measure": "measures", "CodeSystem": "measures"}


def outputs() -> dict[Path, bytes]:
    """Every file of profiles/ this script owns, with its content."""
    resources: list[dict[str, Any]] = [*all_structure_definitions(), *all_questionnaires(),
                                       *value_sets(), *search_parameters(),
                                       *campaign_search_parameters(), *all_measures()]
    return {ROOT / FOLDERS[r["resourceType"]] / f"{r['id']}.json": dump(r) for r in resources}


def main(argv: list[str] | None = None) -> int:
    """Write (or, with --check, compare) the generated files."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true", help="report stale files, write none")
    args = parser.parse_args(argv)
    files = outputs()
    stale = sorted(path for path, content in files.items()
                   if not path.is_file() or path.read_bytes() != content)
    owned = {path for path in files}
    extra = sorted(p for folder in set(FOLDERS.values()) for p in (ROOT / folder).glob("*.json")
                   if p not in owned)
    if args.check:
        for path in [*stale, *extra]:
            print(f"stale: {path.relative_to(ROOT)}")
        return 1 if stale or extra else 0
    for path in stale:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(files[path])
        print(f"wrote {path.relative_to(ROOT)}")
    for path in extra:
        path.unlink()
        print(f"removed {path.relative_to(ROOT)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())

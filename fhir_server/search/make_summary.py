"""Generate summary_data.py from the official R4 StructureDefinitions of our types.

Run `python -m fhir_server.search.make_summary`: for each type, the top-level elements flagged
isSummary (for _summary=true) and those with min >= 1 (kept by _summary=text and _elements).
"""

from __future__ import annotations

import json
from pathlib import Path

from fhir_server.resource_types import RESOURCE_TYPES
from fhir_server.spec.package import PACKAGE_SPEC, ensure_examples_package

TARGET = Path(__file__).resolve().parent / "summary_data.py"
HEADER = f'''"""Summary and mandatory top-level elements per type (generated from {PACKAGE_SPEC}).

Made by `python -m fhir_server.search.make_summary`; do not edit. A trailing [x] marks a choice.
"""

from __future__ import annotations

'''


def _elements(type_name: str, root: Path) -> tuple[list[str], list[str]]:
    definition = json.loads((root / f"StructureDefinition-{type_name}.json").read_bytes())
    top = [e for e in definition["snapshot"]["element"] if e["path"].count(".") == 1]
    summary = [e["path"].split(".", 1)[1] for e in top if e.get("isSummary")]
    mandatory = [e["path"].split(".", 1)[1] for e in top if int(e.get("min", 0)) >= 1]
    return summary, mandatory


def _table(name: str, rows: dict[str, list[str]]) -> str:
    lines = [f"{name}: dict[str, tuple[str, ...]] = {{"]
    for type_name, elements in rows.items():
        line = f'    "{type_name}": ('
        for element in elements:
            piece = f'"{element}", '
            if len(line) + len(piece) > 98:
                lines.append(line.rstrip())
                line = " " * 8
            line += piece
        lines.append(line.rstrip().rstrip(",") + ("," if len(elements) == 1 else "") + "),")
    lines.append("}")
    return "\n".join(lines) + "\n"


def main() -> None:
    """Write summary_data.py."""
    root = ensure_examples_package() / "package"
    summary, mandatory = {}, {}
    for type_name in sorted(RESOURCE_TYPES):
        summary[type_name], mandatory[type_name] = _elements(type_name, root)
    TARGET.write_text(HEADER + _table("SUMMARY", summary) + "\n" + _table("MANDATORY", mandatory))
    print(f"wrote {TARGET}")


if __name__ == "__main__":
    main()

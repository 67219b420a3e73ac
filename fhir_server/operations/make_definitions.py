"""Generate operation_definitions.json: the official R4 OperationDefinitions of our operations.

Run `python -m fhir_server.operations.make_definitions`: for each registered operation, the
official definition it names (definition URL under http://hl7.org/fhir/OperationDefinition/) or,
when it names none, the official [Type]-[code] / Resource-[code] one, copied from the HL7
examples package without its narrative. Operations with no official definition get one made
from the registry at run time (definitions.py).
"""

from __future__ import annotations

import json
from pathlib import Path

from fhir_server.operations.definitions import OFFICIAL, candidates
from fhir_server.operations.registry import all_operations
from fhir_server.spec.package import ensure_examples_package

TARGET = Path(__file__).resolve().parent / "operation_definitions.json"


def main() -> None:
    """Write operation_definitions.json."""
    root = ensure_examples_package() / "package"
    found: dict[str, object] = {}
    for operation in all_operations():
        for url in candidates(operation):
            path = root / f"OperationDefinition-{url.removeprefix(OFFICIAL)}.json"
            if path.is_file():
                definition = json.loads(path.read_bytes())
                definition.pop("text", None)
                found[definition["url"]] = definition
    TARGET.write_text(json.dumps(found, indent=1, sort_keys=True, ensure_ascii=False) + "\n",
                      "utf-8")
    print(f"wrote {TARGET} ({len(found)} definitions)")


if __name__ == "__main__":
    main()

"""Refresh terminology/sources/fhir-r4-subset.json from the npm package hl7.fhir.r4.examples@4.0.1.

Usage: python snapshot_fhir_r4.py path/to/hl7.fhir.r4.examples-4.0.1.tgz
(get the archive with `npm pack hl7.fhir.r4.examples@4.0.1` in a temporary folder).
Keeps only the resources our profiles bind to, without narrative; fragments of the large
v3-RoleCode and v2-0203 code systems keep only the codes named in our own source files.
"""

from __future__ import annotations

import json
import sys
import tarfile
from typing import Any

from _common import SOURCES, load_source

#: FHIR core code systems (complete) and value sets needed by the Vietnamese profiles.
CORE_CODESYSTEMS = ["administrative-gender", "event-status", "identifier-use", "name-use",
                    "address-use", "address-type", "contact-point-system", "contact-point-use",
                    "link-type"]
CORE_VALUESETS = CORE_CODESYSTEMS[:1] + ["immunization-status"] + CORE_CODESYSTEMS[2:] + [
    "identifier-type"]
KEEP = ["resourceType", "id", "url", "version", "name", "title", "status", "experimental", "date",
        "publisher", "description", "caseSensitive", "valueSet", "content", "property", "concept",
        "compose", "hierarchyMeaning", "copyright"]


def _trim(res: dict[str, Any]) -> dict[str, Any]:
    return {k: res[k] for k in KEEP if k in res}


def _fragment(cs: dict[str, Any], codes: set[str]) -> dict[str, Any]:
    """Flatten a hierarchical code system and keep only `codes` (content = fragment)."""
    flat: list[dict[str, Any]] = []

    def walk(concepts: list[dict[str, Any]]) -> None:
        for c in concepts:
            if c["code"] in codes:
                flat.append({k: c[k] for k in ("code", "display", "definition") if k in c})
            walk(c.get("concept", []))

    walk(cs["concept"])
    missing = codes - {c["code"] for c in flat}
    if missing:
        raise SystemExit(f"{cs['url']}: codes not found: {sorted(missing)}")
    out = _trim(cs)
    out.pop("property", None)
    out.update(content="fragment", concept=sorted(flat, key=lambda c: c["code"]))
    return out


def main(archive: str) -> None:
    """Read the npm archive and write the trimmed snapshot."""
    with tarfile.open(archive) as tar:
        def member(name: str) -> dict[str, Any]:
            f = tar.extractfile(f"package/{name}.json")
            assert f is not None
            return json.load(f)

        rel = {r["code"] for r in load_source("vn-relationships.json")["concepts"]}
        ident = load_source("vn-identifier-types.json")
        v2 = {c["v2-0203"] for c in ident["concepts"] if c.get("v2-0203")}
        idtype = member("ValueSet-identifier-type")
        v2 |= {c["code"] for inc in idtype["compose"]["include"] for c in inc["concept"]}
        snap = {
            "source": "npm hl7.fhir.r4.examples@4.0.1 (HL7 FHIR R4 4.0.1, CC0-1.0)",
            "codesystems": [_trim(member(f"CodeSystem-{n}")) for n in CORE_CODESYSTEMS] + [
                _fragment(member("CodeSystem-v3-RoleCode"), rel),
                _fragment(member("CodeSystem-v2-0203"), v2)],
            "valuesets": [_trim(member(f"ValueSet-{n}")) for n in CORE_VALUESETS],
        }
    (SOURCES / "fhir-r4-subset.json").write_text(
        json.dumps(snap, ensure_ascii=False, indent=1, sort_keys=True) + "\n", encoding="utf-8")


if __name__ == "__main__":
    main(sys.argv[1])

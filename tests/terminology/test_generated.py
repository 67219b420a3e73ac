"""The generated terminology/ resources: FHIR validity, determinism, counts and cross-codes."""

from __future__ import annotations

import sys
from collections import Counter
from pathlib import Path
from typing import Any

import pytest
from fhir.resources.R4B import get_fhir_model_class

from .conftest import ROOT, load_all

SCRIPTS = ROOT / "scripts"


@pytest.mark.parametrize("path,resource", load_all(), ids=lambda v: getattr(v, "name", ""))
def test_every_resource_is_valid_fhir_r4(path: Path, resource: dict[str, Any]) -> None:
    """Each file parses as its R4 resource type (R4B classes) and is named after its id."""
    get_fhir_model_class(resource["resourceType"]).model_validate(resource)
    assert path.stem == resource["id"]


def test_ids_unique_and_canonical_versions_unique() -> None:
    """Ids unique per type; (url, version) unique (versioned CodeSystems share one URL)."""
    items = [r for _, r in load_all()]
    assert len({(r["resourceType"], r["id"]) for r in items}) == len(items)
    assert len({(r["resourceType"], r["url"], r.get("version")) for r in items}) == len(items)


def test_regeneration_is_byte_identical(tmp_path: Path) -> None:
    """Every committed file is the output of make_all.py (never typed by hand)."""
    sys.path.insert(0, str(SCRIPTS))
    try:
        import make_all
        written = make_all.main(tmp_path)
    finally:
        sys.path.remove(str(SCRIPTS))
    committed = sorted(p.relative_to(ROOT) for p, _ in load_all())
    assert sorted(p.relative_to(tmp_path) for p in written) == committed
    for rel in committed:
        assert (tmp_path / rel).read_bytes() == (ROOT / rel).read_bytes(), rel


def test_total_size_under_10_mb() -> None:
    """The generated JSON stays small enough to commit (issue: aim < 10 MB)."""
    assert sum(p.stat().st_size for p, _ in load_all()) < 10 * 1024 * 1024


def _count(resources: dict[str, dict[str, Any]], rid: str) -> int:
    cs = resources[f"CodeSystem/{rid}"]
    assert cs["count"] == len(cs["concept"])
    return len(cs["concept"])


def test_admin_unit_counts(resources: dict[str, dict[str, Any]]) -> None:
    """34 provinces and 3,321 communes since 1 July 2025 (issue numbers match exactly).

    Legacy: 63 provinces as in the issue; 696 districts and 10,035 wards in the package, which is
    the state just before 1 July 2025 - the issue's ~705/~10,6xx are the older (c. 2021) counts.
    """
    assert _count(resources, "vn-province") == 34
    assert _count(resources, "vn-commune") == 3321
    assert _count(resources, "vn-province-legacy") == 63
    assert _count(resources, "vn-district-legacy") == 696
    assert _count(resources, "vn-ward-legacy") == 10035


def test_ward_map_covers_every_legacy_ward_and_every_commune(
        resources: dict[str, dict[str, Any]]) -> None:
    """Each legacy ward maps to >= 1 commune; each commune is the target of some legacy unit."""
    cm = resources["ConceptMap/vn-ward-legacy-to-2025"]
    wards, islands = cm["group"]
    assert len(wards["element"]) == 10035 and len(islands["element"]) == 5
    targets = {t["code"] for g in cm["group"] for e in g["element"] for t in e["target"]}
    assert targets == {c["code"] for c in resources["CodeSystem/vn-commune"]["concept"]}
    divided = [e for e in wards["element"] if len(e["target"]) > 1]
    assert divided and all("default" in e["target"][0]["comment"] for e in divided)
    province = resources["ConceptMap/vn-province-legacy-to-2025"]["group"][0]["element"]
    assert Counter(t["equivalence"] for e in province for t in e["target"]) == {
        "wider": 52, "equivalent": 11}  # 11 provinces kept unchanged in 2025


def test_priority_group_versions(resources: dict[str, dict[str, Any]]) -> None:
    """Resolution 21/NQ-CP lists 9 groups, Decision 3355/QĐ-BYT 16 (issue numbers)."""
    nq21 = resources["CodeSystem/vn-covid19-priority-group-nq21"]
    qd = resources["CodeSystem/vn-covid19-priority-group-qd3355"]
    assert nq21["url"] == qd["url"] and nq21["version"] < qd["version"]
    assert len(nq21["concept"]) == 9 and len(qd["concept"]) == 16


EXPECTED_VACCINES = {  # code: (CVX, ICD-11, EU DCC product, EU DCC manufacturer)
    "astrazeneca": ("210", "XM4YL8", "EU/1/21/1529", "ORG-100001699"),
    "pfizer-biontech": ("208", "XM8NQ0", "EU/1/20/1528", "ORG-100030215"),
    "moderna": ("207", "XM3DT5", "EU/1/20/1507", "ORG-100031184"),
    "janssen": ("212", "XM6QV1", "EU/1/20/1525", "ORG-100001417"),
    "sputnik-v": ("505", "XM5ZJ4", "Sputnik-V", "Gamaleya-Research-Institute"),
    "sinopharm-verocell": ("510", "XM8866", "BBIBP-CorV", "ORG-100020693"),
    "hayat-vax": ("510", "XM9FQ7", "Hayat-Vax", "ORG-100023050"),
    "abdala": ("500", "XM5JC5", "Abdala", "CIGB"),
}


def test_vaccines_carry_cross_codes(resources: dict[str, dict[str, Any]]) -> None:
    """Each of the 8 vaccines carries CVX (CDC), ICD-11 (WHO DDCC maps) and EU DCC codes
    (eu-dcc-valuesets vaccine-encoding-instructions.json) and a primary schedule."""
    concepts = {c["code"]: c for c in resources["CodeSystem/vn-covid19-vaccine"]["concept"]}
    assert set(concepts) == set(EXPECTED_VACCINES)
    for code, expected in EXPECTED_VACCINES.items():
        props = {p["code"]: next(v for k, v in p.items() if k.startswith("value"))
                 for p in concepts[code]["property"]}
        got = (props["cvx"], props["icd11"], props["eu-dcc-product"],
               props["eu-dcc-manufacturer"])
        assert got == expected, code
        assert props["series-doses"] >= 1
    assert {p["code"]: p["valueInteger"] for p in concepts["abdala"]["property"]
            if p["code"] == "series-doses"} == {"series-doses": 3}

"""TerminologyService: $lookup, $validate-code, $expand and $translate, including errors.

Spec: FHIR R4 terminology service operations, http://hl7.org/fhir/R4/terminology-service.html
(CodeSystem/$lookup 4.7.16, ValueSet/$expand 4.9.20, ValueSet/$validate-code 4.9.21,
ConceptMap/$translate 4.10.14).
"""

from __future__ import annotations

from typing import Any

import pytest

from fhir_server.errors import InvalidRequest, NotFound
from fhir_server.terminology import TerminologyService, fold, get_service, lookup

CS, VS, CM = "CodeSystem/", "ValueSet/", "ConceptMap/"
EVENT_STATUS = "http://hl7.org/fhir/event-status"
IMM_STATUS = "http://hl7.org/fhir/ValueSet/immunization-status"


def test_fold_is_accent_and_case_insensitive() -> None:
    """'Hà Nội' and 'HA  NOI' fold to the same text (đ -> d)."""
    assert fold("Thành phố Hà Nội") == "thanh pho ha noi"
    assert fold("Đà Nẵng") == fold("da nang")


def test_lookup_province(tx: TerminologyService, urls: dict[str, str]) -> None:
    """$lookup returns name, version, display and the concept properties."""
    out = tx.lookup(urls[CS + "vn-province"], "01")
    assert out["display"] == "Thành phố Hà Nội" and out["version"] == "2025-07-01"
    assert {"code": "type", "value": {"valueString": "Thành phố"}} in out["property"]


def test_lookup_versioned_codesystem(tx: TerminologyService, urls: dict[str, str]) -> None:
    """Latest version by default; an explicit version (or url|version) pins the other text."""
    system = urls[CS + "vn-covid19-priority-group-qd3355"]
    assert tx.lookup(system, "16")["version"] == "2021-07-08"
    old = tx.lookup(system, "5", version="2021-02-26")
    assert old["display"].startswith("Người mắc các bệnh mạn tính")
    assert tx.lookup(f"{system}|2021-02-26", "9")["version"] == "2021-02-26"
    with pytest.raises(NotFound, match="has no version '1999'"):
        tx.lookup(system, "1", version="1999")


def test_lookup_hierarchy_and_errors(tx: TerminologyService) -> None:
    """Unknown system and unknown code are 404 with precise messages."""
    with pytest.raises(NotFound, match="No CodeSystem with URL 'http://example.org/x'"):
        tx.lookup("http://example.org/x", "a")
    with pytest.raises(NotFound, match="Code 'nope' is not in CodeSystem"):
        tx.lookup(EVENT_STATUS, "nope")
    with pytest.raises(InvalidRequest):
        tx.lookup(EVENT_STATUS, "")


def test_expand_filter_accent_insensitive(tx: TerminologyService, urls: dict[str, str]) -> None:
    """filter is a case/accent-insensitive substring on display: 'ha noi' finds 'Hà Nội'."""
    out = tx.expand(urls[VS + "vn-province"], filter="ha noi")
    assert [c["display"] for c in out["expansion"]["contains"]] == ["Thành phố Hà Nội"]
    assert out["expansion"]["timestamp"] == "2025-07-01T00:00:00+00:00"
    assert tx.expand(urls[VS + "vn-province"], filter="HANOI")["expansion"]["total"] == 1
    both = tx.expand(urls[VS + "vn-post-vaccination-reaction"], filter="headache")
    assert [c["code"] for c in both["expansion"]["contains"]] == ["dau-dau"]  # en designation


def test_expand_paging(tx: TerminologyService, urls: dict[str, str]) -> None:
    """count and offset page through the 3,321 communes; total is the full size."""
    url = urls[VS + "vn-commune"]
    first = tx.expand(url, count=10)["expansion"]
    second = tx.expand(url, count=10, offset=10)["expansion"]
    assert first["total"] == second["total"] == 3321
    assert len(first["contains"]) == len(second["contains"]) == 10
    assert {c["code"] for c in first["contains"]}.isdisjoint(c["code"] for c in second["contains"])
    assert "contains" not in tx.expand(url, count=0)["expansion"]
    with pytest.raises(InvalidRequest):
        tx.expand(url, count=-1)
    with pytest.raises(NotFound):
        tx.expand("http://example.org/ValueSet/none")


def test_expand_core_valueset(tx: TerminologyService) -> None:
    """immunization-status (required binding of Immunization.status) has exactly 3 codes."""
    out = tx.expand(IMM_STATUS)["expansion"]
    assert sorted(c["code"] for c in out["contains"]) == ["completed", "entered-in-error",
                                                          "not-done"]


def test_validate_code_in_valueset(tx: TerminologyService, urls: dict[str, str]) -> None:
    """ValueSet/$validate-code: member true; non-member false with message; unknown system 404."""
    assert tx.validate_code(IMM_STATUS, "completed", system=EVENT_STATUS)["result"] is True
    bad = tx.validate_code(IMM_STATUS, "stopped", system=EVENT_STATUS)
    assert bad["result"] is False and "is not in ValueSet" in bad["message"]
    with pytest.raises(NotFound, match="No CodeSystem with URL 'http://example.org/cs'"):
        tx.validate_code(IMM_STATUS, "completed", system="http://example.org/cs")
    rel = tx.validate_code(urls[VS + "vn-relationship"], "MTH", display="Mẹ")
    assert rel["result"] is True and rel["display"] == "mother"


def test_validate_code_in_codesystem(tx: TerminologyService, urls: dict[str, str]) -> None:
    """CodeSystem/$validate-code: unknown code -> result false with message; display checked."""
    system = urls[CS + "vn-ward-legacy"]
    assert tx.validate_code(system, "00001", display="phuong phuc xa")["result"] is True
    unknown = tx.validate_code(system, "99999")
    assert unknown == {"result": False, "code": "99999", "system": system,
                       "version": "2025-06-30",
                       "message": f"Unknown code '99999' in CodeSystem '{system}'"}
    wrong = tx.validate_code(system, "00001", display="Phường Trúc Bạch")
    assert wrong["result"] is False and "expected 'Phường Phúc Xá'" in wrong["message"]
    with pytest.raises(NotFound, match="No ValueSet or CodeSystem"):
        tx.validate_code("http://example.org/unknown", "x")


def test_translate_legacy_province(tx: TerminologyService, urls: dict[str, str]) -> None:
    """ConceptMap/$translate: Bình Dương (74) -> Thành phố Hồ Chí Minh (79), 'wider'."""
    out = tx.translate(urls[CM + "vn-province-legacy-to-2025"], urls[CS + "vn-province-legacy"],
                       "74")
    assert out["result"] is True
    (match,) = out["match"]
    assert match["equivalence"] == "wider"
    assert match["concept"]["code"] == "79" and match["concept"]["system"] == urls[
        CS + "vn-province"]


def test_translate_legacy_ward(tx: TerminologyService, urls: dict[str, str]) -> None:
    """A divided ward lists its default target first; the map can be found by its source."""
    old = urls[CS + "vn-ward-legacy"]
    out = tx.translate(urls[CM + "vn-ward-legacy-to-2025"], old, "00007")  # Phường Cống Vị
    assert [m["concept"]["display"] for m in out["match"]] == ["Phường Ngọc Hà",
                                                               "Phường Giảng Võ"]
    assert "default" in out["match"][0]["comment"]
    by_source = tx.translate(old, old, "00001")
    assert by_source["result"] is True and by_source["match"][0]["concept"]["code"] == "00097"
    island = tx.translate(old, urls[CS + "vn-district-legacy"], "755")  # Côn Đảo district
    assert island["match"][0]["concept"]["display"] == "Đặc khu Côn Đảo"


def test_translate_errors(tx: TerminologyService, urls: dict[str, str]) -> None:
    """Unknown map -> 404; unknown code or foreign system -> result false with a message."""
    with pytest.raises(NotFound, match="No ConceptMap with URL or source"):
        tx.translate("http://example.org/cm", "http://example.org/cs", "1")
    cm = urls[CM + "vn-ward-legacy-to-2025"]
    miss = tx.translate(cm, urls[CS + "vn-ward-legacy"], "99999")
    assert miss["result"] is False and "not in CodeSystem" in miss["message"]
    foreign = tx.translate(cm, EVENT_STATUS, "completed")
    assert foreign["result"] is False and "is not a source" in foreign["message"]
    tts = tx.translate(urls[CM + "vn-post-vaccination-reaction-to-snomed"],
                       urls[CS + "vn-post-vaccination-reaction"], "tts")
    assert tts["result"] is False and tts["match"][0]["equivalence"] == "unmatched"


def test_vaccine_cross_code_translate(tx: TerminologyService, urls: dict[str, str]) -> None:
    """vn-covid19-vaccine -> CVX; the CVX code validates against the CVX fragment."""
    out = tx.translate(urls[CM + "vn-covid19-vaccine-to-cvx"], urls[CS + "vn-covid19-vaccine"],
                       "sputnik-v")
    assert out["match"][0]["concept"]["code"] == "505"
    assert tx.validate_code("http://hl7.org/fhir/sid/cvx", "505")["result"] is True


def test_extra_resources_and_cached_default() -> None:
    """Extra CodeSystem/ValueSet dicts are served too; get_service() is a cached singleton."""
    cs: dict[str, Any] = {
        "resourceType": "CodeSystem", "url": "http://example.org/cs", "status": "active",
        "content": "complete", "caseSensitive": False,
        "concept": [{"code": "A", "display": "Ắ", "concept": [{"code": "B"}]}]}
    vs: dict[str, Any] = {
        "resourceType": "ValueSet", "url": "http://example.org/vs", "status": "active",
        "compose": {"include": [{"system": "http://example.org/cs", "filter": [
            {"property": "concept", "op": "descendent-of", "value": "A"}]}]}}
    extra = [cs, vs]
    tx = TerminologyService(extra=extra)
    assert tx.lookup("http://example.org/cs", "b")["property"] == [
        {"code": "parent", "value": {"valueCode": "A"}}]
    assert [c["code"] for c in tx.expand("http://example.org/vs")["expansion"]["contains"]] == [
        "B"]
    assert get_service() is get_service()
    assert lookup(EVENT_STATUS, "completed")["display"] == "Completed"  # module shortcut

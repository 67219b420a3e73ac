"""The memoised `idx` builder (search.html: values extracted at write time) gives the same
document from cold memos and from warm ones, and never shares a mutable part between two
documents: on every official R4 example of our types, the Synthea bundles, our own AuditEvents
and odd hand-made data.

When it was optimised, it was also proven identical to the plain builder it replaced on all
those corpora (a frozen copy of that builder lived in tests/search/reference_*.py until commit
1a17239; it was retired when year-9999 dates started to be indexed instead of crashing).
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

import pytest
from fhirpathpy.engine.nodes import TypeInfo

from fhir_server.search import extract, normalize, values
from fhir_server.search.extract import SearchIndexer, present_elements
from fhir_server.search.paths import R4_MODEL, has_element
from tests.search.test_fastpath import CORPORA

BASE = "https://fhir.test/fhir"
ODD_DATES = [
    "2021", "2021-05", "2021-05-01", "2021-05-01T10:00", "2021-05-01T10:00Z",
    "2021-05-01T10:00:00", "2021-05-01T10:00:00+07:00", "2021-05-01T10:00:00.5Z",
    "2021-05-01T10:00:00.123456789-03:30", " 2021-05-01 ", "garbage", "2021-13-01", "2021-02-30",
    "0001-01-01", "9999-12-31", "9999-12-31T23:59:59.9999Z", "0001-01-01T00:00:00Z",
    "2020-12-31T23:59:59.9995Z", "1999-12-31T23:59Z", "2021-05-01T24:00:00Z", "", "2021-5-1",
    "2021-05-01T10:00:00.000000001Z", "2016-12-31T23:59:60Z", "2021-05-01T10:00:00.1+14:00",
    "0999-12-31T23:59:59.9995Z", "0100-02-03T04:05:06Z", "0999", "0099-12", "1000-01-01",
    "2021-05-01T00:30:00+01:00", "2021-03-01T00:00:00.000-00:00", "2021-05-01T10:00:00+99:99"]


def _odd_resources() -> list[dict[str, Any]]:
    """Hand-made resources: repeated values, odd dates, unicode, references of every shape."""
    out: list[dict[str, Any]] = [{"resourceType": "Patient"}, {"resourceType": 5}, {}]
    for i, date in enumerate(ODD_DATES):
        other, bound = ODD_DATES[(i + 3) % len(ODD_DATES)], ODD_DATES[(i + 7) % len(ODD_DATES)]
        out.append({
            "resourceType": "Patient", "id": f"d{i}", "birthDate": date, "deceasedDateTime": date,
            "gender": "female", "active": i % 2 == 0,
            "name": [{"family": "Nguyễn", "given": ["Văn", "An", "An", None]},
                     {"family": "NGUYEN", "text": "  Đặng  Thị "}, {"given": []}],
            "address": [{"line": ["1 Main", "1 Main"], "city": "Hà Nội"}, {"city": "Hà Nội"}],
            "telecom": [{"system": "phone", "value": "1"}, {"system": "phone", "value": "1"},
                        {"system": "email", "value": "E@x"}, {"value": 3}],
            "identifier": [{"system": "urn:a", "value": "1", "type": {
                "coding": [{"system": "s", "code": "MR"}, {"code": "X"}], "text": "Med Rec"}},
                {"value": "1"}, {"system": "urn:a", "value": "1"}, {"system": 7, "value": "2"},
                {"system": "urn:a", "value": "\x1e"}],
            "generalPractitioner": [
                {"reference": "Practitioner/1"}, {"reference": f"{BASE}/Practitioner/1/_history/2"},
                {"reference": "http://other/Practitioner/1"}, {"reference": "#c"},
                {"identifier": {"system": "s", "value": "v"}},
                {"identifier": {"value": "v"}, "reference": "Organization/o"}]})
        out.append({
            "resourceType": "Observation", "id": f"o{i}", "status": "final",
            "code": {"coding": [{"system": "http://loinc.org", "code": "1-1", "display": "Ä b"},
                                {"system": "http://loinc.org", "code": "1-1"}, {"code": ""},
                                {"system": "x", "code": "\x1e"}],
                     "text": "Ä b"},
            "effectivePeriod": {"start": date, "end": other}, "issued": date,
            "valueQuantity": {"value": i * 1.5 if i % 3 else i, "unit": "mg", "code": "mg"},
            "subject": {"reference": "Patient/d1"},
            "component": [
                {"code": {"coding": [{"system": "x", "code": "c"}]},
                 "valueQuantity": {"value": 1, "unit": "u"}},
                {"code": {"coding": [{"system": "x", "code": "c"}]},
                 "valueQuantity": {"value": 1, "unit": "u"}},
                {"code": {"text": "t"},
                 "valueCodeableConcept": {"coding": [{"code": "a"}, {"code": "b"}]}},
                {"code": {"coding": [{"code": "r"}]},
                 "valueRange": {"low": {"value": 1, "unit": "a"}, "high": {"value": 2}}}]})
        out.append({
            "resourceType": "MedicationRequest", "id": f"m{i}", "status": "active",
            "intent": "order", "subject": {"reference": "Patient/p"}, "authoredOn": date,
            "dosageInstruction": [
                {"timing": {"event": [date, other, 5],
                            "repeat": {"boundsPeriod": {"start": bound}}}},
                {"timing": {"repeat": {"boundsDuration": {"value": 1}}}}]})
    return out


CORPORA = {**CORPORA, "odd": _odd_resources}


def _same(new: Any, old: Any, where: str = "idx") -> None:
    """Equal, and alike in every way a stored document can tell."""
    assert type(new) is type(old), (where, new, old)
    if isinstance(new, dict):
        assert list(new) == list(old), (where, list(new), list(old))
        for key in new:
            _same(new[key], old[key], f"{where}.{key}")
    elif isinstance(new, list | tuple):
        assert len(new) == len(old), (where, new, old)
        for position, (a, b) in enumerate(zip(new, old, strict=True)):
            _same(a, b, f"{where}[{position}]")
    else:
        assert new == old and repr(new) == repr(old), (where, new, old)
        if isinstance(new, datetime):
            assert new.tzinfo is old.tzinfo, (where, new, old)


@pytest.mark.parametrize("model_known", [False, True])
@pytest.mark.parametrize("corpus", sorted(CORPORA))
def test_warm_memos_give_the_cold_documents(corpus: str, model_known: bool,
                                            monkeypatch: pytest.MonkeyPatch) -> None:
    """Both passes from the same fhirpathpy global state (see test_fastpath.py)."""
    resources = CORPORA[corpus]()
    for module in (normalize, values, extract):  # every lru_cache: cold memos
        for member in vars(module).values():
            if callable(getattr(member, "cache_clear", None)):
                member.cache_clear()
    monkeypatch.setattr(TypeInfo, "model", R4_MODEL if model_known else None)
    cold = [SearchIndexer(BASE)(resource) for resource in resources]
    monkeypatch.setattr(TypeInfo, "model", R4_MODEL if model_known else None)
    warm = [SearchIndexer(BASE)(resource) for resource in resources]
    assert len(resources) >= 20 and sum(1 for document in cold if document) >= 20
    for resource, first, again in zip(resources, cold, warm, strict=True):
        _same(again, first, f"{resource.get('resourceType')}/{resource.get('id')}")


def _containers(value: Any) -> list[Any]:
    if isinstance(value, dict):
        return [value, *(c for item in value.values() for c in _containers(item))]
    if isinstance(value, list):
        return [value, *(c for item in value for c in _containers(item))]
    return []


def test_documents_share_no_mutable_parts() -> None:
    """Memoised values are immutable: two documents never share a list or a dict."""
    resources = CORPORA["audit"]()[:5] + CORPORA["odd"]()[:20]
    indexer = SearchIndexer(BASE)
    first = [indexer(resource) for resource in resources]
    second = [indexer(resource) for resource in resources]
    seen = {id(c) for document in first for c in _containers(document)}
    assert not any(id(c) in seen for document in second for c in _containers(document))
    for document in first:  # a caller that edits its document leaves the next one alone
        for container in _containers(document):
            container.clear()
    for resource, document in zip(resources, second, strict=True):
        _same(indexer(resource), document)


def test_token_key_tuples() -> None:
    for system in (None, "", "urn:x", 0, 7, ["a"]):
        for code in ("1", "", "\x1e"):
            assert normalize.token_key_tuple(system, code) == tuple(
                dict.fromkeys(normalize.token_keys(system, code)))  # type: ignore[arg-type]


@pytest.mark.parametrize("keys", [[], ["value"], ["valueQuantity", "id"], ["a", "aB", "b1C"],
                                  ["effectiveDateTime"], ["_birthDate"], ["deceasedBoolean"]])
def test_present_elements_answer_as_has_element(keys: list[str]) -> None:
    resource = dict.fromkeys(keys, 1)
    present = present_elements(resource)
    for element in ["value", "valueQuantity", "effective", "effectiveDate", "a", "aB", "b1",
                    "b", "deceased", "_birth", "birthDate", "id", "i"]:
        assert (element in present) == has_element(resource, element), element

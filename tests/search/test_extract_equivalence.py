"""The optimised `idx` builder against the plain one it replaced (tests/search/reference_*.py).

Memoised normalisation, ordered-set deduplication, per-type parameter plans and presence gates
must not change a single index document: the same keys in the same order, the same list order,
the same value types (1.0 is not 1, a UTC datetime is not a naive one), on every official R4
example of our types, the Synthea bundles, our own AuditEvents and odd hand-made data.
"""

from __future__ import annotations

import random
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from fhirpathpy.engine.nodes import TypeInfo

from fhir_server.fhirdates import date_range
from fhir_server.search import normalize
from fhir_server.search.extract import SearchIndexer, present_elements
from fhir_server.search.paths import R4_MODEL, has_element
from tests.search import reference_normalize as reference
from tests.search.reference_indexer import ReferenceIndexer
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
def test_index_documents_are_the_reference_documents(corpus: str, model_known: bool,
                                                     monkeypatch: pytest.MonkeyPatch) -> None:
    """Both builders from the same fhirpathpy global state (see test_fastpath.py)."""
    resources = CORPORA[corpus]()
    monkeypatch.setattr(TypeInfo, "model", R4_MODEL if model_known else None)
    new = [SearchIndexer(BASE)(resource) for resource in resources]
    monkeypatch.setattr(TypeInfo, "model", R4_MODEL if model_known else None)
    again = [SearchIndexer(BASE)(resource) for resource in resources]  # from the memos now
    monkeypatch.setattr(TypeInfo, "model", R4_MODEL if model_known else None)
    old = [ReferenceIndexer(BASE)(resource) for resource in resources]
    assert len(resources) >= 20 and sum(1 for document in old if document) >= 20
    for resource, fast, cached, slow in zip(resources, new, again, old, strict=True):
        where = f"{resource.get('resourceType')}/{resource.get('id')}"
        _same(fast, slow, where)
        _same(cached, slow, where)


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


def _moments() -> list[datetime]:
    rng = random.Random(7)
    fixed = [datetime(year, 1, 1, tzinfo=UTC) for year in (1, 2, 99, 999, 1000, 1970, 9999)]
    return fixed + [datetime(1, 1, 1, tzinfo=UTC) + timedelta(
        microseconds=rng.randrange(0, 315_537_897_599_999_999)) for _ in range(3000)]


def _date_strings() -> list[str]:
    rng = random.Random(11)
    found = list(ODD_DATES)
    for moment in _moments()[:1500]:
        text = moment.isoformat()
        for cut in (4, 7, 10, 16, 19, 21, 23, 26):
            zone = rng.choice(["", "Z", "+07:00", "-03:30", "+14:00", "-12:00", "+00:00"])
            found.append(text[:cut] + (zone if cut > 10 else ""))
    return found


def _outcome(function: Any, *args: Any) -> Any:
    try:
        return function(*args)
    except Exception as exc:  # noqa: BLE001 - the same failure is the same outcome
        return type(exc).__name__, str(exc)


def test_dates_parse_and_bucket_as_before() -> None:
    for text in _date_strings():
        assert _outcome(date_range, text) == _outcome(reference.date_range, text), text
        found = normalize.fhir_range(text)
        assert found == reference.fhir_range(text), text
        assert normalize.fhir_range(text) is found  # memoised
        if found is not None:
            _same(found, reference.fhir_range(text), text)
            _same(_outcome(normalize.bucket_keys, *found),
                  _outcome(reference.bucket_keys, *found), text)
    moments = _moments()
    rng = random.Random(3)
    for low in moments:
        for length in (4, 7, 10, 16, 19):
            assert normalize.bucket(low, length) == reference.bucket(low, length), low
        for width in (timedelta(milliseconds=1), timedelta(seconds=rng.randrange(1, 90)),
                      timedelta(days=rng.randrange(1, 400)), timedelta(0), -timedelta(1)):
            try:
                high = low + width
            except OverflowError:
                continue
            assert (_outcome(normalize.bucket_keys, low, high)
                    == _outcome(reference.bucket_keys, low, high)), (low, high)


def test_strings_and_token_keys_as_before() -> None:
    texts = ["Nguyễn Văn  An", "ĐẶNG Thị Đào", "  Müller\tß ", "Æsir Œuvre ı", "", " ", "x" * 300,
             "é" * 300, "ﬁ ligature ①", "A\u0301", "tab\tand\nnew\x1cline", "ǅemal"]
    for resource in CORPORA["synthea"]():
        if resource["resourceType"] == "Patient":
            texts.extend(text for name in resource["name"] for text in name.get("given", []))
    for text in texts:
        assert normalize.norm_string(text) == reference.norm_string(text), text
        assert normalize.norm_string(text) == reference.norm_string(text), text  # memoised
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

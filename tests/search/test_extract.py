"""Index values extracted at write time (FHIRPath via fhirpathpy, normalised)."""

from __future__ import annotations

from datetime import UTC, datetime

from fhir_server.search.extract import SearchIndexer, reference_key
from fhir_server.search.normalize import ANY_CODE, OF_TYPE, PARAM_SEP, SEP
from fhir_server.search.paths import rewrite
from fhir_server.search.registry import indexed_params, params_for
from fhir_server.storage.search_indexes import reindex
from tests.search.conftest import SearchBed

BASE = "http://fhir.test/fhir"
PATIENT = {"resourceType": "Patient", "id": "x", "gender": "female", "birthDate": "1990-02",
           "name": [{"family": "Đặng", "given": ["Thị"]}],
           "deceasedDateTime": "2020-01-01T10:00:00+07:00",
           "managingOrganization": {"reference": f"{BASE}/Organization/o1"},
           "meta": {"tag": [{"system": "urn:t", "code": "a"}]}}


def test_expression_rewrites() -> None:
    assert rewrite("Resource.meta.tag", "Patient") == ("Patient.meta.tag", None)
    assert rewrite("(Patient.deceased as dateTime)", "Patient") == (
        "Patient.deceased.ofType(dateTime)", None)
    assert rewrite("Flag.subject.where(resolve() is Patient)", "Flag") == ("Flag.subject",
                                                                          "Patient")


def test_patient_document() -> None:
    document = SearchIndexer(BASE)(PATIENT)
    p = document["p"]
    assert p["family"] == [{"v": "dang"}] and document["x"]["family"] == ["Đặng"]
    assert p["birthdate"] == [{"lo": datetime(1990, 2, 1, tzinfo=UTC),
                               "hi": datetime(1990, 3, 1, tzinfo=UTC)}]
    assert p["death-date"][0]["lo"] == datetime(2020, 1, 1, 3, tzinfo=UTC)
    assert p["organization"] == ["Organization/o1"]
    assert "_tag" in p and "gender" in p
    assert document["s"]["family"] == {"a": "dang", "d": "dang"}


def test_the_shared_keys_hold_what_queries_start_from() -> None:
    # search.html#token: the exact values keep code, system|code and system|; the index holds
    # the code once; dates are found by their lo/hi range indexes, a small required value set
    # (gender) only filters
    document = SearchIndexer(BASE)(PATIENT)
    assert document["p"]["_tag"] == ["a", f"urn:t{SEP}a", f"urn:t{SEP}{ANY_CODE}"]
    assert document["p"]["gender"][0] == "female"
    keys = document["k"]
    assert f"_tag{PARAM_SEP}a" in keys and f"organization{PARAM_SEP}Organization/o1" in keys
    assert not [k for k in keys if k.startswith(("birthdate", "death-date", "gender"))]
    assert not [k for k in keys if SEP in k]


def test_identifier_keys_once_per_value() -> None:
    patient = {"resourceType": "Patient", "identifier": [
        {"system": "urn:cccd", "value": "079", "type": {"coding": [{"system": "urn:v2",
                                                                   "code": "NI"}]}}]}
    document = SearchIndexer(BASE)(patient)
    assert document["k"] == [f"identifier{PARAM_SEP}079"]
    assert f"{OF_TYPE}urn:v2{SEP}NI{SEP}079" in document["p"]["identifier"]


def test_absent_elements_leave_no_entries() -> None:
    document = SearchIndexer(BASE)({"resourceType": "Patient", "id": "y"})
    assert document == {}  # terms whose first element is absent are not even evaluated


def test_reference_keys() -> None:
    assert reference_key(f"{BASE}/Patient/1", BASE) == "Patient/1"
    assert reference_key("Patient/1/_history/3", BASE) == "Patient/1"
    assert reference_key("#contained", BASE) is None
    assert reference_key("https://other/fhir/Patient/1", BASE) == "https://other/fhir/Patient/1"


def test_resolve_filter_keeps_the_right_type() -> None:
    flag = {"resourceType": "Flag", "status": "active", "code": {"text": "x"},
            "subject": {"reference": "Group/g"}}
    document = SearchIndexer(BASE)(flag)
    assert document["p"]["subject"] == ["Group/g"] and "patient" not in document["p"]


def test_every_parameter_of_every_type_compiles() -> None:
    for type_name in ("Patient", "Immunization", "QuestionnaireResponse", "AuditEvent"):
        assert all(p.terms for p in indexed_params(type_name))
    unsupported = {c for c, p in params_for("Patient").items() if not p.supported}
    assert unsupported <= {"_content", "_filter", "_query", "_text", "_list", "age",
                           "birthOrderBoolean"}
    assert "name" not in unsupported and "identifier" not in unsupported


def test_reindex_rewrites_stale_index_documents(bed: SearchBed) -> None:
    bed.add({"resourceType": "Patient", "id": "re-1", "name": [{"family": "Hồ"}]})
    bed.db["Patient"].update_one({"_id": "re-1"}, {"$unset": {"idx": ""}})
    assert bed.ids("Patient", "family=ho&_id=re-1") == set()
    assert reindex(bed.db, ["Patient"], SearchIndexer(BASE)) >= 1
    assert bed.ids("Patient", "family=ho&_id=re-1") == {"re-1"}

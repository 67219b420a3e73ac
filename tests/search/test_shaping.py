"""_summary and _elements (search.html#summary, #elements)."""

from __future__ import annotations

from fhir_server.search.shaping import shape

PATIENT = {"resourceType": "Patient", "id": "1", "meta": {"versionId": "1"},
           "text": {"status": "generated", "div": "<div/>"}, "gender": "male",
           "deceasedBoolean": False, "photo": [{"url": "x"}], "contact": [{"gender": "male"}]}


def test_summary_true_keeps_summary_elements() -> None:
    shaped = shape(PATIENT, "true", None)
    assert set(shaped) == {"resourceType", "id", "meta", "gender", "deceasedBoolean"}
    assert shaped["meta"]["tag"][0]["code"] == "SUBSETTED"


def test_summary_text_and_data() -> None:
    assert set(shape(PATIENT, "text", None)) == {"resourceType", "id", "meta", "text"}
    assert "text" not in shape(PATIENT, "data", None) and "photo" in shape(PATIENT, "data", None)


def test_elements_with_choices() -> None:
    shaped = shape(PATIENT, None, ["deceased", "photo"])
    assert set(shaped) == {"resourceType", "id", "meta", "deceasedBoolean", "photo"}
    assert shape(PATIENT, None, None) is PATIENT

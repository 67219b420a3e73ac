"""Reading Bundle entries as requests (FHIR R4 bundle.html#Bundle.entry.request, http.html)."""

from __future__ import annotations

import pytest

from fhir_server.errors import FhirError
from fhir_server.interactions.bundle_parse import bundle_entries, parse_entry

BASE = "https://fhir.test/fhir"


def _entry(method: str, url: str, **extra: object) -> dict[str, object]:
    return {"request": {"method": method, "url": url}, **extra}


# http.html#transaction: the URL of an entry is relative to the base (absolute ones on this
# server are accepted)
def test_urls() -> None:
    read = parse_entry(_entry("GET", f"{BASE}/Patient/1/_history/2"), 0, BASE)
    assert read.path == ("Patient", "1", "_history", "2")
    cond = parse_entry(_entry("DELETE", "Patient?identifier=a|b"), 1, BASE)
    assert cond.conditional and cond.query == "identifier=a|b"
    put = parse_entry(_entry("PUT", "Patient/7", resource={"resourceType": "Patient"}), 2, BASE)
    assert (put.type_name, put.resource_id) == ("Patient", "7")


@pytest.mark.parametrize(("raw", "expression"), [
    (_entry("POST", "Patient/1", resource={"resourceType": "Patient"}),
     "Bundle.entry[0].request.url"),
    (_entry("POST", "https://elsewhere.example/Patient", resource={"resourceType": "Patient"}),
     "Bundle.entry[0].request.url"),
    (_entry("PUT", "Patient/1", resource={"resourceType": "Patient"},
            ) | {"request": {"method": "PUT", "url": "Patient/1", "ifMatch": "7"}},
     None),
    (_entry("PUT", "Patient/1", resource={"resourceType": "Patient"})
     | {"request": {"method": "PUT", "url": "Patient/1", "ifMatch": "W/\"x\""}},
     "Bundle.entry[0].request.ifMatch"),
    (_entry("DELETE", "Patient/1") | {"request": {"method": "DELETE", "url": "Patient/1",
                                                  "ifNoneExist": "a=b"}},
     "Bundle.entry[0].request.ifNoneExist"),
    (_entry("GET", "MedicinalProduct/1"), "Bundle.entry[0].request.url"),
])
# bundle.html#Bundle.entry.request: malformed requests point at the element
def test_malformed(raw: dict[str, object], expression: str | None) -> None:
    if expression is None:
        assert parse_entry(raw, 0, BASE).if_match == 7
        return
    with pytest.raises(FhirError) as raised:
        parse_entry(raw, 0, BASE)
    assert raised.value.issues[0].expression == (expression,)


# bundle.html#bundle-unique (bdl-7)
def test_duplicate_full_url() -> None:
    body = {"resourceType": "Bundle", "type": "batch",
            "entry": [{"fullUrl": "urn:uuid:a"}, {"fullUrl": "urn:uuid:a"}]}
    with pytest.raises(FhirError) as raised:
        bundle_entries(body)
    assert raised.value.issues[0].expression == ("Bundle.entry[1].fullUrl",)

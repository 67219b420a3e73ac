"""Selection and data minimisation of the card's resources, and the card bundle's inverse view."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from fhir_server.health_cards import (
    NoCompletedImmunization,
    build_bundle,
    bundle_resources,
    from_json,
    select_resources,
)
from fhir_server.health_cards.bundle_rules import check_bundle
from fhir_server.health_cards.minimise import displays_from, minimise_immunization
from tests.health_cards.conftest import VECTORS, make_dose, make_patient

SYNTHEA = VECTORS.parent / "synthea" / "subset-supported-types"


def test_select_keeps_completed_doses_of_this_patient_in_date_order(
        patient: dict[str, Any], doses: list[dict[str, Any]]) -> None:
    """Issue: only completed Immunizations of the patient go on a card."""
    other = make_dose(9, pid="someone-else")
    not_done = make_dose(8, status="not-done")
    chosen = select_resources(patient, [*doses, other, not_done, patient])
    assert [d["id"] for d in chosen] == ["imm-1", "imm-2", "imm-3"]


@pytest.mark.parametrize("reference", ["Patient/vn-0001", "urn:uuid:vn-0001",
                                       "https://fhir.example.vn/fhir/Patient/vn-0001"])
def test_select_understands_relative_urn_and_absolute_references(reference: str) -> None:
    """A transaction bundle (urn:uuid) or an absolute URL points at the same patient."""
    dose = make_dose(1)
    dose["patient"]["reference"] = reference
    assert select_resources(make_patient(), [dose]) == [dose]
    dose["patient"]["reference"] = "Practitioner/vn-0001"
    with pytest.raises(NoCompletedImmunization):
        select_resources(make_patient(), [dose])


def test_patient_without_completed_immunization_is_a_clear_error() -> None:
    """Issue (bad input): no completed immunization -> a clear error, not an empty card."""
    with pytest.raises(NoCompletedImmunization) as caught:
        select_resources(make_patient(), [make_dose(1, status="not-done")])
    assert caught.value.status == 422
    assert "no completed immunization" in caught.value.message


def test_minimised_bundle_follows_the_spec_rules(patient: dict[str, Any],
                                                  doses: list[dict[str, Any]]) -> None:
    """Spec "Payload content minified for QR codes": no id/meta(other than security)/text,
    no Coding.display or CodeableConcept.text, resource:N fullUrls and references;
    Reference.display kept."""
    bundle = build_bundle(patient, select_resources(patient, doses))
    assert check_bundle(bundle) == []
    assert [e["fullUrl"] for e in bundle["entry"]] == ["resource:0", "resource:1",
                                                       "resource:2", "resource:3"]
    person = bundle["entry"][0]["resource"]
    assert person == {"resourceType": "Patient", "birthDate": "1985-03-12",
                      "name": [{"family": "Nguyễn", "given": ["Thị", "Minh Anh"]}]}
    dose = bundle["entry"][1]["resource"]
    assert dose == {
        "resourceType": "Immunization", "meta": {"security": [{"code": "IAL1.4"}]},
        "status": "completed",
        "vaccineCode": {"coding": [{"system": "http://hl7.org/fhir/sid/cvx", "code": "208"}]},
        "patient": {"reference": "resource:0"}, "occurrenceDateTime": "2021-08-02",
        "performer": [{"actor": {"display": "Trạm Y tế phường Hàng Bạc"}}],
        "lotNumber": "FF8841"}


def test_performer_name_is_looked_up_when_the_reference_has_no_display() -> None:
    """A performer reference becomes Reference.display only (the name of the organization)."""
    dose = make_dose(1)
    dose["performer"] = [{"actor": {"reference": "Organization/tyt-1"}}]
    lookup = displays_from([{"resourceType": "Organization", "id": "tyt-1",
                             "name": "Trạm Y tế xã Tân Lập"}])
    out = minimise_immunization(dose, lookup_display=lookup)
    assert out["performer"] == [{"actor": {"display": "Trạm Y tế xã Tân Lập"}}]
    assert "performer" not in minimise_immunization(dose)


def test_bundle_resources_is_the_inverse_view(patient: dict[str, Any],
                                               doses: list[dict[str, Any]]) -> None:
    """build_bundle <-> bundle_resources: the same patient and doses come back (minimised)."""
    bundle = build_bundle(patient, doses)
    person, imms = bundle_resources(bundle)
    assert person is not None and person["birthDate"] == patient["birthDate"]
    assert [i["lotNumber"] for i in imms] == [d["lotNumber"] for d in doses]


@pytest.mark.skipif(not SYNTHEA.is_dir(), reason="no Synthea sample bundles")
def test_every_synthea_patient_minimises_to_a_valid_card_bundle() -> None:
    """Real-shaped data (Synthea, urn:uuid references, US Core extensions) minimises cleanly."""
    checked = 0
    for path in sorted(Path(SYNTHEA).glob("*.json")):
        resources = [e["resource"] for e in from_json(path.read_bytes())["entry"]]
        patient = next(r for r in resources if r["resourceType"] == "Patient")
        try:
            chosen = select_resources(patient, resources)
        except NoCompletedImmunization:
            continue
        bundle = build_bundle(patient, chosen, displays_from(resources))
        assert check_bundle(bundle) == [], path.name
        assert "address" not in bundle["entry"][0]["resource"]
        checked += 1
    assert checked > 40

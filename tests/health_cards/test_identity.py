"""Verified identity (issue 12, point 9 "Health-card identity"): verified name, birth date and
identifiers are not editable by the citizen, the verification marker cannot be forged, and a
card is issued only from verified identity data (fhir_server/health_cards/identity.py)."""

from __future__ import annotations

import copy

import pytest

from fhir_server.errors import Forbidden, Unprocessable
from fhir_server.health_cards import KeyStore, claims_bundle, issue_cards
from fhir_server.health_cards.identity import (
    VERIFICATION_URL,
    UnverifiedIdentity,
    check_identity_write,
    fingerprint,
    identity_fields,
    is_verified,
    mark_verified,
    may_verify,
    verification,
    verified_identity,
)
from fhir_server.health_cards.issue import decode_card
from fhir_server.health_cards.minimise import bundle_resources
from tests.health_cards.conftest import ISS, NOW, make_dose, make_patient


def test_identity_fields_and_fingerprint() -> None:
    patient = make_patient(verified=False)
    fields = identity_fields(patient)
    assert set(fields) == {"name", "birthDate", "identifier"}
    assert fingerprint(patient).startswith("sha256:") and len(fingerprint(patient)) == 71
    reordered = {"birthDate": patient["birthDate"], "identifier": patient["identifier"],
                 "name": patient["name"], "telecom": []}
    assert fingerprint(reordered) == fingerprint(patient)  # canonical: order and others ignored
    assert fingerprint({**patient, "birthDate": "1985-03-13"}) != fingerprint(patient)


def test_mark_verified_records_who_when_where_and_fingerprint() -> None:
    patient = make_patient(verified=False)
    assert not is_verified(patient)
    marked = mark_verified(patient, "staff/nurse-1", "2021-08-02T09:00:00+07:00",
                           site="Location/site-1")
    assert is_verified(marked) and "extension" not in patient  # the input is not changed
    assert verification(marked) == {"verifier": "staff/nurse-1",
                                    "verified": "2021-08-02T09:00:00+07:00",
                                    "fingerprint": fingerprint(patient),
                                    "site": {"reference": "Location/site-1"}}
    again = mark_verified(marked, "system/site-app", "2022-01-01T00:00:00Z")
    assert [e["url"] for e in again["extension"]] == [VERIFICATION_URL]  # replaced, not added


def test_changed_identity_is_no_longer_verified() -> None:
    marked = make_patient()
    assert is_verified(marked)
    assert not is_verified({**marked, "name": [{"family": "Lê", "given": ["Giả"]}]})
    duplicated = {**marked, "extension": marked["extension"] * 2}
    assert not is_verified(duplicated) and verification(duplicated) is None


def test_verified_identity_returns_the_verified_fields_or_422() -> None:
    marked = make_patient()
    assert verified_identity(marked) == identity_fields(marked)
    with pytest.raises(UnverifiedIdentity) as missing:
        verified_identity(make_patient(verified=False))
    assert missing.value.status == 422 and "vaccination site" in missing.value.message
    with pytest.raises(UnverifiedIdentity) as changed:
        verified_identity({**marked, "birthDate": "2000-01-01"})
    assert "changed since it was verified" in changed.value.message


def test_who_may_verify() -> None:
    assert may_verify("staff", ["practitioner"]) and may_verify("staff", ["admin"])
    assert may_verify("system") and may_verify("internal")
    assert not may_verify("staff", ["analyst"])
    assert not may_verify("citizen") and not may_verify("anonymous")


def test_citizen_cannot_change_verified_identity_fields() -> None:
    current = make_patient()
    proposed = copy.deepcopy(current)
    proposed["name"] = [{"use": "official", "family": "Trần", "given": ["Giả", "Mạo"]}]
    proposed["birthDate"] = "1999-01-01"
    with pytest.raises(Forbidden) as refused:
        check_identity_write("citizen", current, proposed)
    assert refused.value.status == 403
    assert [i.expression for i in refused.value.issues] == [("Patient.name",),
                                                            ("Patient.birthDate",)]
    editable = {**copy.deepcopy(current), "telecom": [{"system": "phone",
                                                       "value": "+84900000000"}]}
    assert check_identity_write("citizen", current, editable) is None  # other fields: fine


def test_citizen_cannot_add_change_or_remove_the_marker() -> None:
    unverified = make_patient(verified=False)
    forged = mark_verified(unverified, "staff/nobody", "2021-01-01")
    with pytest.raises(Forbidden) as added:
        check_identity_write("citizen", unverified, forged)
    assert added.value.issues[0].expression[0].startswith("Patient.extension(")
    with pytest.raises(Forbidden):
        check_identity_write("citizen", None, forged)  # a create carrying it
    verified = make_patient()
    with pytest.raises(Forbidden):
        check_identity_write("citizen", verified, {**verified, "extension": []})
    with pytest.raises(Forbidden):  # a marker for other data, with the data changed to match
        renamed = {**verified, "name": [{"family": "Lê", "given": ["Giả"]}]}
        check_identity_write("citizen", verified, mark_verified(renamed, "staff/x", "2021"))
    stale = {**verified, "birthDate": "1999-01-01"}  # unverified now: may not keep the marker
    with pytest.raises(Forbidden):
        check_identity_write("citizen", stale, stale)
    assert check_identity_write("citizen", unverified, {**unverified, "birthDate": "1986-01-01"}
                                ) is None  # unverified identity stays editable


def test_staff_may_verify_but_not_with_a_mismatching_marker() -> None:
    unverified = make_patient(verified=False)
    marked = mark_verified(unverified, "staff/nurse-1", "2021-08-02")
    assert check_identity_write("staff", unverified, marked, ["practitioner"]) is None
    assert check_identity_write("system", marked, unverified) is None  # a site may reset it
    with pytest.raises(Unprocessable) as mismatch:
        check_identity_write("staff", marked, {**marked, "birthDate": "1999-01-01"},
                             ["practitioner"])
    assert mismatch.value.status == 422 and "fingerprint" in mismatch.value.message
    with pytest.raises(Forbidden):  # an analyst is not a verifier
        check_identity_write("staff", unverified, marked, ["analyst"])


def test_cards_only_from_verified_identity(keystore: KeyStore) -> None:
    """Issue 12, point 9: no card for an unverified Patient; the card's Patient is the
    verified identity (name, birthDate) and nothing else."""
    with pytest.raises(UnverifiedIdentity):
        issue_cards(make_patient(verified=False), [make_dose(1)], iss=ISS, keys=keystore,
                    now=NOW)
    [card] = issue_cards(make_patient(), [make_dose(1)], iss=ISS, keys=keystore, now=NOW)
    person, _ = bundle_resources(claims_bundle(decode_card(card.jws)[1]))
    assert person == {"resourceType": "Patient", "birthDate": "1985-03-12",
                      "name": [{"family": "Nguyễn", "given": ["Thị", "Minh Anh"]}]}

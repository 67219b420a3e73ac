"""End to end: issue cards with our key store, then verify them in every form (and break them)."""

from __future__ import annotations

import hashlib
from typing import Any

import pytest
from cryptography.hazmat.primitives.asymmetric import ec

from fhir_server.health_cards import (
    MEDIA_TYPE,
    CardTooLarge,
    KeyStore,
    NoCompletedImmunization,
    TrustedIssuers,
    VerifyOptions,
    build_bundle,
    claims_bundle,
    decode_card,
    deflate,
    encode_card,
    health_card_file,
    issue_cards,
    issue_parameters,
    make_qr,
    parse_health_card_file,
    select_resources,
    to_json,
    verify,
)
from fhir_server.health_cards.claims import COVID19, HEALTH_CARD, IMMUNIZATION, build_claims
from fhir_server.health_cards.encoding import MAX_SINGLE_JWS
from fhir_server.health_cards.issue import parameters_credentials
from fhir_server.health_cards.jws import sign_jws
from fhir_server.health_cards.result import (
    EXPIRED,
    INVALID,
    NOT_TRUSTED,
    NOT_YET_VALID,
    REVOKED,
    VALID,
)
from tests.health_cards.conftest import ISS, NOW, make_dose, make_patient


def _issue(keystore: KeyStore, patient: dict[str, Any], doses: list[dict[str, Any]],
           **kwargs: Any) -> list[Any]:
    """Issue on the fixed clock."""
    return issue_cards(patient, doses, iss=ISS, keys=keystore, now=NOW, **kwargs)


def test_issued_card_verifies_in_every_form(keystore: KeyStore, own_trusted: TrustedIssuers,
                                            patient: dict[str, Any],
                                            doses: list[dict[str, Any]]) -> None:
    """Issue: JWS, shc:/ numeric, PNG, .smart-health-card file and $health-cards-issue answer
    all verify, with who (name, birth date) and what (vaccine, date, lot, performer)."""
    [card] = _issue(keystore, patient, doses)
    assert card.doses == 3 and len(card.jws) <= MAX_SINGLE_JWS
    forms: list[bytes | str] = [card.jws, card.numeric, card.png(), health_card_file([card.jws]),
                                to_json(issue_parameters([card]))]
    for data in forms:
        result = verify(data, own_trusted, now=NOW + 60, filename="card.smart-health-card")
        assert result.verdict == VALID, result.reasons
        assert result.issuer == ISS and result.issuer_name == "Cổng tiêm chủng"
        assert result.subject is not None
        assert (result.subject.name, result.subject.birth_date) == ("Nguyễn Thị Minh Anh",
                                                                      "1985-03-12")
        assert [(d.vaccine_code, d.date, d.lot_number, d.performer) for d in result.doses] == [
            ("208", "2021-08-02", "FF8841", "Trạm Y tế phường Hàng Bạc"),
            ("208", "2021-09-01", "FF8842", "Trạm Y tế phường Hàng Bạc"),
            ("207", "2022-03-15", "FF8843", "Trạm Y tế phường Hàng Bạc")]


def test_claims_follow_the_spec(keystore: KeyStore, patient: dict[str, Any],
                                doses: list[dict[str, Any]]) -> None:
    """Spec claims: iss (no trailing slash), nbf in seconds, vc.type #health-card (+ the
    deprecated #immunization/#covid19 the issue asks for), fhirVersion 4.0.1, rid; the JWS
    decodes back to the minimised bundle (claims <-> bundle round trip)."""
    [card] = _issue(keystore, patient, doses, exp=NOW + 3600)
    header, claims = decode_card(card.jws)
    assert header == {"zip": "DEF", "alg": "ES256", "kid": keystore.active_signing_key().kid}
    assert claims["iss"] == ISS and claims["nbf"] == NOW and claims["exp"] == NOW + 3600
    assert claims["vc"]["type"] == [HEALTH_CARD, IMMUNIZATION, COVID19]
    assert claims["vc"]["credentialSubject"]["fhirVersion"] == "4.0.1"
    assert claims["vc"]["rid"] == keystore.rid_for("vn-0001", header["kid"]) == card.rid
    assert claims_bundle(claims) == build_bundle(patient, select_resources(patient, doses))


def test_encode_card_is_the_inverse_of_decode_card(keystore: KeyStore,
                                                   patient: dict[str, Any]) -> None:
    """Claims -> JSON -> DEFLATE -> JWS, and back, gives the same claims."""
    claims = build_claims(build_bundle(patient, [make_dose(1)]), ISS, NOW)
    assert decode_card(encode_card(claims, keystore.active_signing_key()))[1] == claims
    with pytest.raises(ValueError, match="must not end with '/'"):
        build_claims({}, ISS + "/", NOW)
    with pytest.raises(ValueError, match="https"):
        build_claims({}, "http://x.example", NOW)


def test_many_doses_are_split_into_single_qr_cards(keystore: KeyStore,
                                                   own_trusted: TrustedIssuers) -> None:
    """Issue: a payload too large for one QR becomes several cards (never QR chunks); each
    card is <= 1195 characters (QR version <= 22) and verifies; doses stay in date order."""
    long_lot = "LOT-" + "9" * 60
    doses = [make_dose(n, date=f"20{10 + n}-0{1 + n % 9}-1{n % 10}", lot=f"{long_lot}{n}")
             for n in range(1, 21)]
    for dose in doses:
        dose["performer"][0]["actor"]["display"] = f"Bệnh viện đa khoa tỉnh số {dose['id']}"
    cards = _issue(keystore, make_patient(), doses)
    assert len(cards) > 1 and sum(c.doses for c in cards) == 20
    dates: list[str] = []
    for card in cards:
        assert len(card.jws) <= MAX_SINGLE_JWS and int(make_qr(card.jws).version) <= 22
        result = verify(card.numeric, own_trusted, now=NOW)
        assert result.verdict == VALID, result.reasons
        dates += [d.date or "" for d in result.doses]
    assert dates == sorted(dates)


def test_a_dose_too_large_for_any_qr_is_an_error(keystore: KeyStore) -> None:
    """Even one dose can be too big (absurd performer name): a clear 413, not a bad QR."""
    dose = make_dose(1)
    noise = "".join(hashlib.sha256(bytes([i])).hexdigest() for i in range(40))  # incompressible
    dose["performer"][0]["actor"]["display"] = noise
    with pytest.raises(CardTooLarge) as caught:
        _issue(keystore, make_patient(), [dose])
    assert caught.value.status == 413


def test_no_completed_immunization_is_refused(keystore: KeyStore) -> None:
    """Issue (bad input): a patient with no completed immunization -> a clear error."""
    with pytest.raises(NoCompletedImmunization):
        _issue(keystore, make_patient(), [make_dose(1, status="entered-in-error")])


def test_card_of_an_unknown_key_is_not_trusted(tmp_path: Any, own_trusted: TrustedIssuers,
                                               patient: dict[str, Any]) -> None:
    """Issue (bad input): a card signed by a key the issuer never published -> not trusted."""
    forger = KeyStore(tmp_path / "forger")
    forger.create()
    [card] = issue_cards(patient, [make_dose(1)], iss=ISS, keys=forger, now=NOW)
    result = verify(card.jws, own_trusted, now=NOW)
    assert result.verdict == NOT_TRUSTED
    assert any("publishes no key with kid" in r for r in result.reasons)


def test_card_forged_under_our_kid_is_rejected(keystore: KeyStore,
                                               own_trusted: TrustedIssuers,
                                               patient: dict[str, Any]) -> None:
    """A forger who copies our kid into the header fails the signature check."""
    forged_key = ec.generate_private_key(ec.SECP256R1())
    [genuine] = _issue(keystore, patient, [make_dose(1)])
    header, claims = decode_card(genuine.jws)
    forged = sign_jws(deflate(to_json(claims)), forged_key, header["kid"])
    result = verify(forged, own_trusted, now=NOW)
    assert result.verdict == INVALID
    assert any("signature does not verify" in r for r in result.reasons)


@pytest.mark.parametrize("garbage", ["", "hello", "a.b.c", "shc:/12", "{}", "[1,2]",
                                     b"\xff\xfe\x00", b"\x89PNG\r\n\x1a\nbroken", "{not json"])
def test_garbage_is_rejected_with_a_reason(own_trusted: TrustedIssuers,
                                           garbage: str | bytes) -> None:
    """Issue (bad input): garbage in verify -> a verdict and a reason, never an exception."""
    result = verify(garbage, own_trusted, now=NOW)
    assert result.verdict == INVALID and result.reasons


def test_revoked_expired_and_not_yet_valid(keystore: KeyStore, own_trusted: TrustedIssuers,
                                           patient: dict[str, Any]) -> None:
    """Spec "Expiration" and "Revocation": each time/revocation verdict with its reason."""
    [card] = _issue(keystore, patient, [make_dose(1)], exp=NOW + 86_400)
    assert verify(card.jws, own_trusted, now=NOW).verdict == VALID
    assert verify(card.jws, own_trusted, now=NOW + 90_000).verdict == EXPIRED
    assert verify(card.jws, own_trusted, now=NOW - 3600).verdict == NOT_YET_VALID
    keystore.revoke("vn-0001", before=NOW - 1)  # only cards issued before: not this one
    assert verify(card.jws, own_trusted, now=NOW).verdict == VALID
    keystore.revoke("vn-0001")
    result = verify(card.jws, own_trusted, now=NOW)
    assert result.verdict == REVOKED
    assert any(card.rid and card.rid in r for r in result.reasons)


def test_rotation_keeps_old_cards_valid_until_the_key_is_removed(
        keystore: KeyStore, own_trusted: TrustedIssuers, patient: dict[str, Any]) -> None:
    """Spec "Key Management": retired keys still verify; a removed (compromised) key does not."""
    [old] = _issue(keystore, patient, [make_dose(1)])
    keystore.rotate()
    [new] = _issue(keystore, patient, [make_dose(1)])
    assert old.kid != new.kid
    assert verify(old.jws, own_trusted, now=NOW).verdict == VALID
    keystore.remove(old.kid)
    assert verify(old.jws, own_trusted, now=NOW).verdict == NOT_TRUSTED
    assert verify(new.jws, own_trusted, now=NOW).verdict == VALID


def test_files_and_parameters_round_trip(keystore: KeyStore, patient: dict[str, Any]) -> None:
    """Spec "via File Download": {"verifiableCredential": [...]}, application/smart-health-card;
    and the $health-cards-issue Parameters answer."""
    cards = _issue(keystore, patient, [make_dose(1)])
    jws = [c.jws for c in cards]
    assert MEDIA_TYPE == "application/smart-health-card"
    assert parse_health_card_file(health_card_file(jws)) == jws
    assert parameters_credentials(issue_parameters(cards)) == jws


def test_lenient_mode_turns_conformance_issues_into_warnings(
        keystore: KeyStore, own_trusted: TrustedIssuers, patient: dict[str, Any]) -> None:
    """Trailing whitespace rejects by default (strict); lenient verification only warns."""
    [card] = _issue(keystore, patient, [make_dose(1)])
    assert verify(card.jws + "\n", own_trusted, now=NOW).verdict == INVALID
    lenient = verify(card.jws + "\n", own_trusted, now=NOW, options=VerifyOptions(strict=False))
    assert lenient.verdict == VALID and lenient.warnings


def test_unminified_payload_is_a_conformance_issue(keystore: KeyStore,
                                                   own_trusted: TrustedIssuers,
                                                   patient: dict[str, Any]) -> None:
    """Spec "Health Cards are Compact": the payload is minified before DEFLATE."""
    import json

    claims = build_claims(build_bundle(patient, [make_dose(1)]), ISS, NOW)
    pretty = json.dumps(claims, indent=2, ensure_ascii=False).encode()
    jws = keystore.active_signing_key().sign(deflate(pretty))
    result = verify(jws, own_trusted, now=NOW)
    assert result.verdict == INVALID and result.reasons == [
        "JWS payload is not minified (it has optional whitespace)"]
    lenient = verify(jws, own_trusted, now=NOW, options=VerifyOptions(strict=False))
    assert lenient.verdict == VALID

"""The certificate's lifecycle, pure parts (issue 14 point 6): one rid per card so a card can be
revoked alone (SMART Health Cards "Revocation"), the doses each card carries, the voiding rule,
the name as written (HumanName.text), development mode (http issuer) and the production check
(SMART Health Cards "Determining keys associated with an issuer": iss uses https)."""

from __future__ import annotations

import hashlib
from typing import Any

import pytest

from fhir_server.health_cards import KeyStore, TrustedIssuers, decode_card, issue_cards
from fhir_server.health_cards.claims import build_claims
from fhir_server.health_cards.identity import mark_verified
from fhir_server.health_cards.minimise import build_bundle, minimise_patient
from fhir_server.health_cards.result import summarise
from fhir_server.health_cards.rules import voids
from fhir_server.health_cards.verify import VerifyOptions, verify_jws
from fhir_server.settings import Settings
from tests.health_cards.conftest import ISS, NOW, make_dose

DEV_ISS = "http://127.0.0.1:8080"


def _vietnamese() -> dict[str, Any]:
    patient = {"resourceType": "Patient", "id": "vn-0002", "birthDate": "1990-01-01",
               "name": [{"use": "official", "text": "Nguyễn Văn An", "family": "Nguyễn",
                         "given": ["Văn", "An"]}]}
    return mark_verified(patient, "staff/nurse-1", "2021-08-02T09:00:00+07:00")


# "Revocation": with rid_subject each card of an issuance has its own rid, derived (HMAC) from
# `<subject>.<n>`; without it every card of the patient shares the patient's rid (as before)
def test_one_rid_per_card_and_the_doses_it_carries(keystore: KeyStore,
                                                   patient: dict[str, Any]) -> None:
    doses = [make_dose(n, date=f"20{10 + n}-01-01", lot=hashlib.sha256(bytes([n])).hexdigest())
             for n in range(1, 21)]
    cards = issue_cards(patient, doses, iss=ISS, keys=keystore, now=NOW,
                        rid_subject="vn-0001/abc")
    assert len(cards) > 1  # twenty doses with long lot numbers do not fit one QR code
    assert [c.rid for c in cards] == [keystore.rid_for(f"vn-0001/abc.{n}", cards[0].kid)
                                      for n in range(len(cards))]
    assert len({c.rid for c in cards}) == len(cards)
    carried = [dose for card in cards for dose in card.carried]
    assert carried == [f"imm-{n}" for n in range(1, 21)]  # date order, each on one card
    for card in cards:
        _, claims = decode_card(card.jws)
        assert claims["vc"]["rid"] == card.rid and len(card.carried) == card.doses
    shared = issue_cards(patient, doses[:2], iss=ISS, keys=keystore, now=NOW)
    assert shared[0].rid == keystore.rid_for("vn-0001", shared[0].kid)


# the rule: a completed dose voided (entered-in-error, any other status), deleted, or moved to
# another patient takes back the cards that carried it; other writes do not
@pytest.mark.parametrize(("proposed", "current", "expected"), [
    ({"status": "entered-in-error", "patient": {"reference": "Patient/p"}},
     {"status": "completed", "patient": {"reference": "Patient/p"}}, True),
    ({"status": "not-done"}, {"status": "completed"}, True),
    (None, {"status": "completed"}, True),
    ({"status": "completed", "patient": {"reference": "Patient/q"}},
     {"status": "completed", "patient": {"reference": "Patient/p"}}, True),
    ({"status": "completed", "lotNumber": "X", "patient": {"reference": "Patient/p"}},
     {"status": "completed", "patient": {"reference": "Patient/p"}}, False),
    ({"status": "completed"}, None, False),
    (None, {"status": "entered-in-error"}, False),
    ({"status": "completed"}, {"status": "not-done"}, False),
])
def test_voids(proposed: Any, current: Any, expected: bool) -> None:
    assert voids(proposed, current) is expected


# the card keeps the name as written: HumanName.text in Vietnamese order, and the verifier
# shows that text, not given + family ("Văn An Nguyễn"); without a text, family + given
def test_name_keeps_its_vietnamese_order() -> None:
    person = minimise_patient(_vietnamese())
    assert person["name"] == [{"text": "Nguyễn Văn An", "family": "Nguyễn",
                               "given": ["Văn", "An"]}]
    subject, _ = summarise(build_bundle(person, []))
    assert subject is not None and subject.name == "Nguyễn Văn An"
    no_text = {"resourceType": "Patient", "name": [{"family": "Smith", "given": ["Ann"]}]}
    subject, _ = summarise(build_bundle(minimise_patient(no_text), []))
    assert subject is not None and subject.name == "Smith Ann"


# development mode: an http issuer signs only when told so (build_claims refuses otherwise), and
# a verifier that knows it as a development issuer warns instead of rejecting
def test_development_issuer(tmp_path: Any) -> None:
    bundle = build_bundle(minimise_patient(_vietnamese()), [])
    with pytest.raises(ValueError, match="must use https"):
        build_claims(bundle, DEV_ISS, NOW)
    with pytest.raises(ValueError, match="must not end with"):
        build_claims(bundle, DEV_ISS + "/", NOW, development=True)
    assert build_claims(bundle, DEV_ISS, NOW, development=True)["iss"] == DEV_ISS
    keys = KeyStore(tmp_path / "keys", clock=lambda: NOW)
    keys.create()
    trusted = TrustedIssuers()
    trusted.add_keystore(DEV_ISS, "development", keys)
    (card,) = issue_cards(_vietnamese(), [make_dose(1, pid="vn-0002")], iss=DEV_ISS, keys=keys,
                          now=NOW, development=True)
    strict = verify_jws(card.jws, trusted, now=NOW)
    assert strict.verdict == "invalid" and any("https" in r for r in strict.reasons)
    dev = verify_jws(card.jws, trusted, now=NOW,
                     options=VerifyOptions(development_issuers=frozenset({DEV_ISS})))
    assert dev.verdict == "valid", dev.reasons
    assert any(w.startswith(f"development issuer {DEV_ISS}") for w in dev.warnings)


# production (FHIR_ENV=production) refuses an http issuer at start-up, with the way forward
def test_production_needs_an_https_issuer() -> None:
    with pytest.raises(ValueError, match="FHIR_ENV=production needs an https health-card"):
        Settings.from_env({"FHIR_ENV": "production"})
    with pytest.raises(ValueError, match="FHIR_ENV=production"):
        Settings.from_env({"FHIR_ENV": "production", "FHIR_BASE_URL": "https://x.vn/fhir",
                           "FHIR_SERVER_SHC_ISSUER": "http://x.vn"})
    ok = Settings.from_env({"FHIR_ENV": "Production", "FHIR_BASE_URL": "https://x.vn/fhir"})
    assert ok.environment == "production" and ok.issuer == "https://x.vn/fhir"
    assert Settings.from_env({}).environment == "development"
    with pytest.raises(ValueError, match="FHIR_ENV must be one of"):
        Settings.from_env({"FHIR_ENV": "staging"})

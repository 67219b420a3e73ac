"""Fixtures for the health-card tests: vector paths, a fixed clock, key stores, sample patients."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import pytest

from fhir_server.health_cards import KeyStore, TrustedIssuers, from_json
from fhir_server.health_cards.identity import mark_verified

VECTORS = Path(os.environ.get("SHC_VECTORS",
                              Path(__file__).resolve().parents[3] / "shared/data/shc-vectors"))
SPEC = VECTORS / "spec-examples"
DEVTOOLS = VECTORS / "devtools-testdata"
TAMPERED = VECTORS / "tampered"
SPEC_ISS = "https://spec.smarthealth.cards/examples/issuer"
SPEC_CRL = SPEC / "issuer-crl-3Kfdg-XwP-7gXyywtUfUADwBumDOPKMQx-iELL11W9s.json"
EXAMPLE_NBF = 1715107763  # nbf of the spec examples (2024-05-07)
ISS = "https://tiemchung.example.gov.vn/fhir"
NOW = 1_767_225_600  # 2026-01-01T00:00:00Z: the fixed clock of issuance tests

requires_vectors = pytest.mark.skipif(not SPEC.is_dir(), reason=f"no SHC vectors at {VECTORS}")


def read(path: Path) -> bytes:
    """Bytes of a vector file."""
    return path.read_bytes()


@pytest.fixture
def spec_trusted() -> TrustedIssuers:
    """The spec's example issuer with its published JWKS (both keys) and CRL."""
    trusted = TrustedIssuers()
    trusted.add(SPEC_ISS, "SMART Health Card example issuer", read(SPEC / "issuer-jwks.json"),
                [from_json(read(SPEC_CRL))])
    return trusted


@pytest.fixture
def keystore(tmp_path: Path) -> KeyStore:
    """A key store with one active key, on the fixed clock."""
    store = KeyStore(tmp_path / "keys", clock=lambda: NOW)
    store.create()
    return store


@pytest.fixture
def own_trusted(keystore: KeyStore) -> TrustedIssuers:
    """Trusted issuers containing only this server's issuer (live from the key store)."""
    trusted = TrustedIssuers()
    trusted.add_keystore(ISS, "Cổng tiêm chủng", keystore)
    return trusted


def make_patient(pid: str = "vn-0001", verified: bool = True) -> dict[str, Any]:
    """A Vietnamese patient with elements that minimisation must drop; its identity verified
    at a vaccination site unless told otherwise (issue 12, point 9: cards need it)."""
    patient: dict[str, Any] = {"resourceType": "Patient", "id": pid, "meta": {"versionId": "2"},
            "text": {"status": "generated", "div": "<div xmlns=\"http://www.w3.org/1999/xhtml\"/>"},
            "identifier": [{"system": "urn:vn:cccd", "value": "001085012345"}],
            "name": [{"use": "usual", "given": ["Bé Na"]},
                     {"use": "official", "family": "Nguyễn", "given": ["Thị", "Minh Anh"]}],
            "telecom": [{"system": "phone", "value": "+84912345678"}],
            "gender": "female", "birthDate": "1985-03-12"}
    if not verified:
        return patient
    return mark_verified(patient, "staff/nurse-1", "2021-08-02T09:00:00+07:00",
                         site="Location/site-1")


def make_dose(n: int, pid: str = "vn-0001", status: str = "completed", code: str = "208",
              date: str = "2021-08-02", lot: str | None = None) -> dict[str, Any]:
    """A COVID-19 Immunization of that patient, with display/text/meta to be minimised."""
    return {"resourceType": "Immunization", "id": f"imm-{n}", "status": status,
            "meta": {"lastUpdated": "2022-03-15T08:00:00Z", "security": [{"code": "IAL1.4"}]},
            "vaccineCode": {"coding": [{"system": "http://hl7.org/fhir/sid/cvx", "code": code,
                                        "display": "COVID-19 mRNA"}], "text": "COVID-19"},
            "patient": {"reference": f"Patient/{pid}"},
            "occurrenceDateTime": f"{date}T09:30:00+07:00",
            "performer": [{"actor": {"reference": "Organization/tyt-1",
                                     "display": "Trạm Y tế phường Hàng Bạc"}}],
            "lotNumber": lot or f"FF{8840 + n}", "primarySource": True}


@pytest.fixture
def patient() -> dict[str, Any]:
    """The sample patient."""
    return make_patient()


@pytest.fixture
def doses() -> list[dict[str, Any]]:
    """Three completed doses of the sample patient, out of date order."""
    return [make_dose(2, date="2021-09-01"), make_dose(1, date="2021-08-02"),
            make_dose(3, code="207", date="2022-03-15")]

"""SMART Health Cards throughput, single thread, against same-run references.

Prints: raw jwcrypto ES256 JWS sign rate (the reference), raw `cryptography` ECDSA P-256 sign
rate, full issuance rate (select -> minimise -> claims -> JSON -> DEFLATE -> JWS, one patient
with 3 doses), the issuance / jwcrypto ratio, QR PNG and SVG renders per second (fresh, no
cache), cached PNG hits per second, and full verification of a `shc:/` string per second.

Goals (issue: health cards): issuance >= 50 % of the raw jwcrypto sign rate; PNG >= 150/s per
core or served from cache.
Run: .venv/bin/python bench/bench_health_cards.py [--seconds S]
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from cryptography.hazmat.primitives import hashes  # noqa: E402
from cryptography.hazmat.primitives.asymmetric import ec  # noqa: E402
from jwcrypto import jwk, jws  # noqa: E402

from fhir_server.health_cards import (  # noqa: E402
    KeyStore,
    QrImageCache,
    TrustedIssuers,
    issue_cards,
    jws_to_numeric,
    render_png,
    render_svg,
    verify,
)
from fhir_server.health_cards.encoding import deflate, to_json  # noqa: E402
from fhir_server.health_cards.identity import mark_verified  # noqa: E402

ISS = "https://tiemchung.example.gov.vn/fhir"
NOW = 1_767_225_600  # 2026-01-01, a fixed clock


def sample() -> tuple[dict[str, object], list[dict[str, object]]]:
    """A Vietnamese patient (with data that minimisation drops) and three completed doses."""
    patient: dict[str, object] = {
        "resourceType": "Patient", "id": "vn-0001", "meta": {"versionId": "3"},
        "identifier": [{"system": "urn:vn:cccd", "value": "001085012345"}],
        "name": [{"use": "official", "family": "Nguyễn", "given": ["Thị", "Minh Anh"]}],
        "telecom": [{"system": "phone", "value": "+84912345678"}],
        "gender": "female", "birthDate": "1985-03-12",
        "address": [{"line": ["12 Phố Huế"], "city": "Hà Nội", "country": "VN"}]}
    doses = []
    for n, (code, date, lot) in enumerate([("208", "2021-08-02", "FF8841"),
                                          ("208", "2021-09-01", "FG3527"),
                                          ("207", "2022-03-15", "AS0193B")], start=1):
        doses.append({
            "resourceType": "Immunization", "id": f"imm-{n}", "status": "completed",
            "meta": {"lastUpdated": "2022-03-15T08:00:00Z"},
            "vaccineCode": {"coding": [{"system": "http://hl7.org/fhir/sid/cvx", "code": code,
                                        "display": "COVID-19 vaccine"}], "text": "COVID-19"},
            "patient": {"reference": "Patient/vn-0001"},
            "occurrenceDateTime": date + "T09:30:00+07:00",
            "performer": [{"actor": {"reference": "Organization/tyt-hoan-kiem",
                                     "display": "Trạm Y tế phường Hàng Bạc"}}],
            "lotNumber": lot, "primarySource": True})
    return mark_verified(patient, "Practitioner/bench", "2021-08-02"), doses


def rate(action: Callable[[], object], seconds: float) -> float:
    """Operations per second of action over about `seconds` (after a short warm-up)."""
    for _ in range(3):
        action()
    count, start = 0, time.perf_counter()
    deadline = start + seconds
    while True:
        for _ in range(10):
            action()
        count += 10
        now = time.perf_counter()
        if now >= deadline:
            return count / (now - start)


def main() -> int:
    """Run the measurements and print one line per figure."""
    parser = argparse.ArgumentParser()
    parser.add_argument("--seconds", type=float, default=2.0, help="duration of each figure")
    seconds = parser.parse_args().seconds
    patient, doses = sample()
    with tempfile.TemporaryDirectory() as tmp:
        store = KeyStore(Path(tmp) / "keys", clock=lambda: NOW)
        store.create()
        card = issue_cards(patient, doses, iss=ISS, keys=store, now=NOW)[0]
        payload = deflate(to_json({"size": "x" * 600}))[:len(card.jws) * 3 // 4 - 120]

        key = jwk.JWK.generate(kty="EC", crv="P-256")
        header = to_json({"zip": "DEF", "alg": "ES256", "kid": key.thumbprint()}).decode()

        def jwcrypto_sign() -> str:
            token = jws.JWS(payload)
            token.add_signature(key, alg="ES256", protected=header)
            return str(token.serialize(compact=True))

        private = ec.generate_private_key(ec.SECP256R1())
        signing_input = card.jws.rsplit(".", 1)[0].encode()
        raw_jwcrypto = rate(jwcrypto_sign, seconds)
        raw_ecdsa = rate(lambda: private.sign(signing_input, ec.ECDSA(hashes.SHA256())), seconds)
        issuance = rate(lambda: issue_cards(patient, doses, iss=ISS, keys=store, now=NOW),
                        seconds)
        png = rate(lambda: render_png(card.jws, cache=None), seconds)
        svg = rate(lambda: render_svg(card.jws, cache=None), seconds)
        cache = QrImageCache()
        cache.render(card.jws, "png")
        cached = rate(lambda: cache.render(card.jws, "png"), seconds)
        trusted = TrustedIssuers()
        trusted.add_keystore(ISS, "bench", store)
        numeric = jws_to_numeric(card.jws)
        assert verify(numeric, trusted, now=NOW + 60).ok
        verifying = rate(lambda: verify(numeric, trusted, now=NOW + 60), seconds)

    print(f"card: 3 doses, JWS {len(card.jws)} characters, QR version "
          f"{card_version(card.jws)} at EC level L")
    print(f"raw jwcrypto ES256 JWS sign      {raw_jwcrypto:9.0f} /s   (reference)")
    print(f"raw cryptography ECDSA P-256     {raw_ecdsa:9.0f} /s")
    print(f"full issuance (minimise -> JWS)  {issuance:9.0f} /s   "
          f"= {issuance / raw_jwcrypto:.0%} of jwcrypto sign (goal >= 50 %), "
          f"{issuance / raw_ecdsa:.0%} of raw ECDSA")
    print(f"QR PNG render, fresh             {png:9.0f} /s   (goal >= 150/s/core or cache)")
    print(f"QR SVG render, fresh             {svg:9.0f} /s")
    print(f"QR PNG from cache (hit)          {cached:9.0f} /s")
    print(f"verify shc:/ text (full checks)  {verifying:9.0f} /s")
    return 0


def card_version(jws_text: str) -> int:
    """QR version of a card."""
    from fhir_server.health_cards import make_qr

    return int(make_qr(jws_text).version)


if __name__ == "__main__":
    sys.exit(main())

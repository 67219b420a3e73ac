"""Health cards over HTTP: issue, download, publish keys, verify (SMART Health Cards IG:
"FHIR API" $health-cards-issue, "Protocol Details" JWKS at /.well-known/jwks.json with CORS,
"Revocation" /.well-known/crl/{kid}.json)."""

from __future__ import annotations

import base64
import json
from typing import Any

import zxingcpp
from flask.testing import FlaskClient
from PIL import Image

from tests.api.card_helpers import CREDENTIAL, vaccinated_patient, verified_patient
from tests.api.helpers import FHIR_JSON, issue
from tests.conftest import BASE_URL


def _verified(client: FlaskClient) -> str:
    return verified_patient(client)


def _vaccinated(client: FlaskClient, doses: int = 2) -> str:
    return vaccinated_patient(client, doses)


def _issue(client: FlaskClient, patient_id: str) -> Any:
    return client.post(f"/Patient/{patient_id}/$health-cards-issue", json=CREDENTIAL,
                       headers={"Content-Type": FHIR_JSON})


# IG "FHIR API": Parameters with verifiableCredential and resourceLink (vcIndex,
# bundledResource resource:N, hostedResource)
def test_issue_returns_credentials_and_links(client: FlaskClient) -> None:
    patient_id = _vaccinated(client)
    response = _issue(client, patient_id)
    assert response.status_code == 200, response.get_json()
    parameters = response.get_json()["parameter"]
    credentials = [p["valueString"] for p in parameters if p["name"] == "verifiableCredential"]
    assert len(credentials) == 1 and credentials[0].count(".") == 2
    links = [p for p in parameters if p["name"] == "resourceLink"]
    hosted = {part["valueUri"] for link in links for part in link["part"]
              if part["name"] == "hostedResource"}
    assert any(url.endswith(f"/Patient/{patient_id}") for url in hosted)
    assert len(links) == 3  # patient + two doses
    assert "/health-cards/" in response.headers["Link"]


# downloads: the QR PNG decodes (zxing-cpp) to the shc:/ text; the file has the JWS
def test_card_downloads(client: FlaskClient) -> None:
    response = _issue(client, _vaccinated(client))
    card_url = response.headers["Link"].split(">")[0].lstrip("<").removeprefix(BASE_URL)
    text = client.get(card_url.replace(".png", ".txt")).get_data(as_text=True)
    assert text.startswith("shc:/")
    png = client.get(card_url)
    assert png.status_code == 200 and png.headers["Content-Type"] == "image/png"
    import io
    decoded = zxingcpp.read_barcodes(Image.open(io.BytesIO(png.data)))
    assert decoded[0].text == text
    shc_file = client.get(card_url.replace(".png", ".smart-health-card"))
    assert shc_file.headers["Content-Type"] == "application/smart-health-card"
    jws = response.get_json()["parameter"][0]["valueString"]
    assert json.loads(shc_file.data) == {"verifiableCredential": [jws]}
    assert client.get(card_url.replace(".png", ".svg")).data.startswith(b"<?xml")
    assert client.get("/health-cards/" + "0" * 64 + ".png").status_code == 404


# bad input: unknown patient -> 404; no completed immunization -> 422; no credentialType -> 400
def test_issue_errors(client: FlaskClient) -> None:
    assert _issue(client, "no-such-patient").status_code == 404
    unvaccinated = _verified(client)
    response = _issue(client, unvaccinated)
    assert response.status_code == 422
    assert "no completed immunization" in issue(response)["diagnostics"]
    missing = client.post(f"/Patient/{unvaccinated}/$health-cards-issue",
                          json={"resourceType": "Parameters"})
    assert missing.status_code == 400


# JWKS with CORS *, public keys only; CRL per kid
def test_jwks_and_crl(client: FlaskClient) -> None:
    response = client.get("/.well-known/jwks.json")
    assert response.headers["Access-Control-Allow-Origin"] == "*"
    keys = response.get_json()["keys"]
    assert keys and all(k["kty"] == "EC" and k["crv"] == "P-256" and k["alg"] == "ES256"
                        and k["use"] == "sig" and "d" not in k for k in keys)
    crl = client.get(f"/.well-known/crl/{keys[0]['kid']}.json").get_json()
    assert crl["kid"] == keys[0]["kid"] and crl["method"] == "rid"
    assert client.get("/.well-known/crl/nokey.json").status_code == 404


def _verdict(response: Any) -> str:
    return next(p["valueCode"] for p in response.get_json()["parameter"]
                if p["name"] == "verdict")


# $verify-health-card: our own card verifies (text, JWS, file, image); garbage -> invalid
def test_verify_own_cards(client: FlaskClient) -> None:
    response = _issue(client, _vaccinated(client))
    jws = response.get_json()["parameter"][0]["valueString"]
    card_url = response.headers["Link"].split(">")[0].lstrip("<").removeprefix(BASE_URL)
    text = client.get(card_url.replace(".png", ".txt")).get_data(as_text=True)
    for body, content_type in ((text, "text/plain"), (jws, "text/plain")):
        verified = client.post("/$verify-health-card", data=body,
                               headers={"Content-Type": content_type})
        assert verified.status_code == 200 and _verdict(verified) == "valid"
    as_file = client.post("/$verify-health-card", json={"verifiableCredential": [jws]})
    assert _verdict(as_file) == "valid"
    png = client.get(card_url).data
    image = client.post("/$verify-health-card", json={"resourceType": "Parameters", "parameter": [
        {"name": "image", "valueBase64Binary": base64.b64encode(png).decode()}]})
    body = image.get_json()["parameter"]
    assert _verdict(image) == "valid"
    subject = next(p for p in body if p["name"] == "subject")
    assert subject["part"][0]["valueString"] == "Nguyễn Văn An"  # Vietnamese order
    assert len([p for p in body if p["name"] == "dose"]) == 2
    garbage = client.post("/$verify-health-card", data="shc:/12345",
                          headers={"Content-Type": "text/plain"})
    assert garbage.status_code == 200 and _verdict(garbage) == "invalid"
    empty = client.post("/$verify-health-card", data="", headers={"Content-Type": "text/plain"})
    assert empty.status_code == 400

"""$verify-health-card for the verifier page (issue 15, point 4): a valid card names its holder in
Vietnamese order (family name first); a card that is not valid carries no personal data (no
subject, no doses, no name or birth date anywhere in the answer); /verify is served with its
shipped assets and a CSP that allows no other origin."""

from __future__ import annotations

import json
from typing import Any

from flask.testing import FlaskClient

from tests.api.card_helpers import issue_card, vaccinated_patient
from tests.api.helpers import FHIR_JSON


def _card(client: FlaskClient, **patient: Any) -> str:
    """The shc:/ text of a card for a new verified Patient with one dose."""
    return issue_card(client, vaccinated_patient(client, 1, **patient))[0]


def _verify(client: FlaskClient, shc: str) -> dict[str, Any]:
    """The page's request: Parameters with the shc:/ text as `data`."""
    response = client.post("/$verify-health-card", json={
        "resourceType": "Parameters", "parameter": [{"name": "data", "valueString": shc}]},
        headers={"Content-Type": FHIR_JSON})
    assert response.status_code == 200, response.get_json()
    return response.get_json()


def _subject_name(answer: dict[str, Any]) -> str:
    subject = next(p for p in answer["parameter"] if p["name"] == "subject")
    return next(part["valueString"] for part in subject["part"] if part["name"] == "name")


def test_name_in_vietnamese_order(client: FlaskClient) -> None:
    """Without HumanName.text the name is family + given; with it, the text as written."""
    answer = _verify(client, _card(client))
    assert answer["parameter"][0] == {"name": "verdict", "valueCode": "valid"}
    assert _subject_name(answer) == "Nguyễn Văn An"
    written = _card(client, name=[{"text": "Trần Thị Bích Ngọc", "family": "Trần",
                                   "given": ["Thị", "Bích", "Ngọc"]}])
    assert _subject_name(_verify(client, written)) == "Trần Thị Bích Ngọc"


def test_invalid_card_carries_no_personal_data(client: FlaskClient) -> None:
    shc = _card(client, birthDate="1977-11-30")
    at = len(shc) - 20  # a signature character: the payload (name, birth date) still decodes
    tampered = shc[:at] + f"{(int(shc[at:at + 2]) + 1) % 78:02d}" + shc[at + 2:]
    answer = _verify(client, tampered)
    names = [p["name"] for p in answer["parameter"]]
    assert answer["parameter"][0]["valueCode"] == "invalid"
    assert "subject" not in names and "dose" not in names and "reason" in names
    text = json.dumps(answer, ensure_ascii=False)
    assert not [word for word in ("Nguyễn", "Văn", "1977", "LOT1") if word in text], text


def test_page_and_assets(client: FlaskClient) -> None:
    page = client.get("/verify", headers={"Accept-Language": "en-GB,en;q=0.9"})
    assert page.status_code == 200 and page.mimetype == "text/html"
    html = page.get_data(as_text=True)
    assert '<html lang="en">' in html and "Vaccination certificate verifier" in html
    assert "/$verify-health-card" in html and "http" not in html.split("<body")[1]
    policy = page.headers["Content-Security-Policy"]
    assert "default-src 'none'" in policy and "script-src 'self'" in policy
    assert "connect-src 'self'" in policy
    assert "Kiểm tra chứng nhận tiêm chủng" in client.get("/verify?lang=vi").get_data(
        as_text=True)
    for asset in ("verify.js", "verify.css", "jsQR.js", "jsQR.LICENSE"):
        assert client.get(f"/verify/static/{asset}").status_code == 200, asset

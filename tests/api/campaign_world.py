"""Accounts and a vaccination site shared by the campaign-loop API tests (issue 14): a citizen
with a family member, another citizen, a site nurse (practitioner) and an administrator, all
with real tokens; a site (Location), a doctor (Practitioner) and Schedules made over HTTP."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

from flask import Flask

from tests.api.auth_helpers import bearer, register

FHIR_JSON = "application/fhir+json"
SNOMED_VACCINATION = {"system": "http://snomed.info/sct", "code": "33879002"}


def at(days: float, hour: int = 8, minute: int = 0) -> str:
    """An instant `days` from today (UTC) at hour:minute."""
    day = datetime.now(UTC).replace(hour=hour, minute=minute, second=0, microsecond=0)
    return (day + timedelta(days=days)).isoformat().replace("+00:00", "Z")


class Campaign:
    """Tokens and directory entries of one test app."""

    def __init__(self, app: Flask) -> None:
        self.app = app
        self.http = app.test_client()
        self.a = register(app, self.http, "Nguyễn Văn An")
        member = self.http.post("/auth/family", headers=bearer(self.a["access_token"]), json={
            "full_name": "Nguyễn Thị Bé", "birthDate": "2008-03-01", "gender": "female",
            "relationship": "DAU"}).get_json()
        self.a["access_token"] = member["access_token"]
        self.family = member["member"]
        self.b = register(app, self.http, "Lê Thị Bình")
        service = app.extensions["fhir"].components["auth"]
        self.tokens: dict[str, dict[str, str]] = {
            "A": bearer(self.a["access_token"]), "B": bearer(self.b["access_token"])}
        for role in ("practitioner", "admin"):
            phone = f"0904{uuid.uuid4().int % 1_000_000:06d}"
            service.accounts.create_staff(phone, role, "Staff2021pass", [role])
            login = self.http.post("/auth/login", json={"username": phone,
                                                        "password": "Staff2021pass"})
            self.tokens[role] = bearer(login.get_json()["access_token"])
        self.site = self.create("practitioner", {
            "resourceType": "Location", "name": "Trạm y tế phường Dịch Vọng",
            "address": {"city": "Cầu Giấy", "state": "Hà Nội"}})["id"]
        self.doctor = self.create("practitioner", {
            "resourceType": "Practitioner", "name": [{"text": "BS. Trần Minh"}]})["id"]

    def send(self, who: str, method: str, url: str, body: Any = None) -> Any:
        """A request with this actor's token; the Flask response."""
        headers = {"Content-Type": FHIR_JSON, **self.tokens[who]}
        if method == "PATCH":
            headers["Content-Type"] = "application/json-patch+json"
        return self.http.open(url, method=method, json=body, headers=headers)

    def create(self, who: str, resource: dict[str, Any]) -> dict[str, Any]:
        """POST a resource; the stored resource (asserting 201)."""
        response = self.send(who, "POST", f"/{resource['resourceType']}", resource)
        assert response.status_code == 201, response.get_json()
        body: dict[str, Any] = response.get_json()
        return body

    def schedule(self, actor: str) -> str:
        """A Schedule of an actor (Practitioner/x or Location/x); its id."""
        return str(self.create("practitioner", {
            "resourceType": "Schedule", "active": True, "actor": [{"reference": actor}],
            "serviceType": [{"coding": [{"system": "http://snomed.info/sct",
                                         "code": "11429006", "display": "Consultation"}]}]}
                               )["id"])

    def slot(self, schedule: str, start: str, end: str, status: str = "free") -> str:
        """A Slot of a Schedule; its id."""
        return str(self.create("practitioner", {
            "resourceType": "Slot", "schedule": {"reference": f"Schedule/{schedule}"},
            "status": status, "start": start, "end": end})["id"])

    def read(self, who: str, ref: str) -> dict[str, Any]:
        """GET one resource (asserting 200)."""
        response = self.send(who, "GET", f"/{ref}")
        assert response.status_code == 200, response.get_json()
        body: dict[str, Any] = response.get_json()
        return body


def expressions(response: Any) -> list[str]:
    """Every issue expression of an OperationOutcome answer."""
    body = response.get_json()
    return [e for issue in body.get("issue", []) for e in issue.get("expression", [])]


def parameters(**values: Any) -> dict[str, Any]:
    """A Parameters resource: str -> valueString, dict with reference -> valueReference,
    dict with code -> valueCoding, ('date', v) -> valueDate, ('code', v) -> valueCode."""
    out: list[dict[str, Any]] = []
    for name, value in values.items():
        if isinstance(value, tuple):
            out.append({"name": name, f"value{value[0].capitalize()}": value[1]})
        elif isinstance(value, dict) and "reference" in value:
            out.append({"name": name, "valueReference": value})
        elif isinstance(value, dict):
            out.append({"name": name, "valueCoding": value})
        else:
            out.append({"name": name, "valueString": value})
    return {"resourceType": "Parameters", "parameter": out}

"""`fhir-server reminders` also texts the doses that fall due that day (issue 14 point 10), once
per person and dose: R4 immunizationrecommendation.html dateCriterion 30981-5 (earliest)."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, datetime, timedelta

from flask import Flask

from fhir_server.auth.principal import INTERNAL_PRINCIPAL, acting_as
from fhir_server.interactions import crud
from fhir_server.notify.gateways import FileSink
from fhir_server.scheduling.notices import VIETNAM
from fhir_server.vaccination.due_reminders import send_due_dose_reminders
from fhir_server.vaccination.outreach import update_recommendation


def test_due_doses_are_reminded_once(make_app: Callable[..., Flask]) -> None:
    app = make_app(auth_required=True)
    svc = app.extensions["fhir"].internal()
    given = date(2021, 9, 1)
    with acting_as(INTERNAL_PRINCIPAL):
        patient = crud.create(svc, "Patient", {
            "resourceType": "Patient", "name": [{"text": "Lý Thị Nhắc"}],
            "telecom": [{"system": "phone", "value": "+84986000123"}]}).version.id
        crud.create(svc, "Immunization", {
            "resourceType": "Immunization", "status": "completed",
            "vaccineCode": {"coding": [{"system": "http://hl7.org/fhir/sid/cvx",
                                        "code": "210"}]},
            "patient": {"reference": f"Patient/{patient}"},
            "occurrenceDateTime": given.isoformat()})
        update_recommendation(svc, patient)
    due_day = given + timedelta(days=56)  # AstraZeneca: the second dose from 8 weeks
    now = datetime.now(VIETNAM)
    assert send_due_dose_reminders(svc, due_day - timedelta(days=1), now).found == 0
    first = send_due_dose_reminders(svc, due_day, now)
    assert (first.found, first.recorded, first.texted, first.failed) == (1, 1, 1, 0)
    again = send_due_dose_reminders(svc, due_day, now)
    assert (again.found, again.recorded, again.texted) == (1, 0, 0)  # nothing twice
    sink = FileSink(app.extensions["fhir"].settings.sms_gateway.split(":", 1)[1])
    texts = [m["text"] for m in sink.messages("+84986000123")]
    assert len(texts) == 1 and due_day.strftime("%d/%m/%Y") in texts[0]

"""Bookings and cancellations through the plain REST door notify like the operations (issue
14 points 9 and 10; R4 appointment.html status, communication.html): one notice and one SMS
per change, and an operation's change is still notified once, not twice."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from flask import Flask

from fhir_server.vaccination.appointment_notices import notice_kind
from tests.api.campaign_world import Campaign, at, parameters
from tests.api.test_appointment_booking import _notices, texts


@pytest.fixture(scope="module")
def world(make_app: Callable[..., Flask]) -> Campaign:
    return Campaign(make_app(auth_required=True))


def _booked(world: Campaign, slot: str, start: str, end: str) -> dict[str, Any]:
    return {"resourceType": "Appointment", "status": "booked",
            "slot": [{"reference": f"Slot/{slot}"}], "start": start, "end": end,
            "participant": [{"actor": {"reference": f"Patient/{world.b['patient']}"},
                             "status": "accepted"},
                            {"actor": {"reference": f"Practitioner/{world.doctor}"},
                             "status": "accepted"}]}


def test_kinds() -> None:
    vaccination = {"serviceType": [{"coding": [{"system": "http://snomed.info/sct",
                                                "code": "33879002"}]}]}
    assert notice_kind(None, {"status": "booked"}, "citizen") == "booking-confirmed"
    assert notice_kind({"status": "booked"}, {"status": "booked"}, "staff") is None
    assert notice_kind({"status": "proposed"}, {**vaccination, "status": "cancelled"},
                       "staff") == "registration-declined"
    assert notice_kind({"status": "proposed"}, {**vaccination, "status": "cancelled"},
                       "citizen") == "vaccination-cancelled"
    assert notice_kind({"status": "booked"}, {"status": "fulfilled"}, "staff") is None


def test_plain_writes_notify_once_each(world: Campaign) -> None:
    schedule = world.schedule(f"Practitioner/{world.doctor}")
    start, end = at(3, 9), at(3, 9, 30)
    slot = world.slot(schedule, start, end)
    before = len(texts(world, world.b["e164"]))
    made = world.send("B", "POST", "/Appointment", _booked(world, slot, start, end))
    assert made.status_code == 201, made.get_json()
    kinds = [n["topic"]["coding"][0]["code"] for n in _notices(world, "B", world.b["patient"])]
    assert kinds.count("booking-confirmed") == 1
    cancelled = {**made.get_json(), "status": "cancelled",
                 "cancelationReason": {"text": "Bận việc"}}
    done = world.send("B", "PUT", f"/Appointment/{made.get_json()['id']}", cancelled)
    assert done.status_code == 200, done.get_json()
    kinds = [n["topic"]["coding"][0]["code"] for n in _notices(world, "B", world.b["patient"])]
    assert kinds.count("booking-cancelled") == 1
    assert len(texts(world, world.b["e164"])) == before + 2
    again = world.send("B", "PUT", f"/Appointment/{made.get_json()['id']}", cancelled)
    assert again.status_code == 200
    assert len(texts(world, world.b["e164"])) == before + 2  # no change: no second text


def test_an_operation_is_notified_once(world: Campaign) -> None:
    schedule = world.schedule(f"Practitioner/{world.doctor}")
    slot = world.slot(schedule, at(4, 10), at(4, 10, 30))
    booked = world.send("B", "POST", "/Appointment/$book", parameters(
        slot={"reference": f"Slot/{slot}"}))
    assert booked.status_code == 201, booked.get_json()
    about = f"Appointment/{booked.get_json()['id']}"
    notices = [n for n in _notices(world, "B", world.b["patient"])
               if n["about"][0]["reference"] == about]
    assert len(notices) == 1

"""Notifications (Thông báo) and appointments (Lịch hẹn), issue 14 point 10, over HTTP: the app
lists the citizen's notifications (Communication, category notification), counts the unread
(status in-progress, _summary=count), marks one or all read (Communication/[id]/$mark-read,
Communication/$mark-read: status completed + received); `fhir-server reminders` texts the next
day's booked appointments once, however often it runs, and resumes after an interruption.
FHIR R4 communication.html (status, received, recipient), appointment.html, search.html.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from flask import Flask

from fhir_server.cli import main
from fhir_server.scheduling.notices import VIETNAM, Notice, record
from tests.api.campaign_world import Campaign, parameters
from tests.api.test_appointment_booking import texts


@pytest.fixture(scope="module")
def world(make_app: Callable[..., Flask]) -> Campaign:
    return Campaign(make_app(auth_required=True))


def tomorrow(hour: int, minute: int = 0, days: int = 1) -> str:
    """hour:minute Vietnam time on the day after today (Vietnam time), as UTC."""
    local = datetime.now(VIETNAM).replace(hour=hour, minute=minute, second=0, microsecond=0)
    return (local + timedelta(days=days)).astimezone(UTC).isoformat().replace("+00:00", "Z")


def _book(world: Campaign, patient: str, start: str, end: str) -> str:
    schedule = world.schedule(f"Location/{world.site}")
    slot = world.slot(schedule, start, end)
    booked = world.send("A", "POST", "/Appointment/$book", parameters(
        patient={"reference": f"Patient/{patient}"}, slot={"reference": f"Slot/{slot}"}))
    assert booked.status_code == 201, booked.get_json()
    return str(booked.get_json()["id"])


def _unread(world: Campaign, who: str, patient: str) -> int:
    response = world.send(who, "GET", f"/Communication?recipient=Patient/{patient}"
                                      "&category=notification&status=in-progress"
                                      "&_summary=count")
    assert response.status_code == 200, response.get_json()
    return int(response.get_json()["total"])


def test_list_count_and_mark_read(world: Campaign) -> None:
    _book(world, world.a["patient"], tomorrow(9, days=3), tomorrow(9, 30, days=3))
    _book(world, world.a["patient"], tomorrow(10, days=3), tomorrow(10, 30, days=3))
    listed = world.send("A", "GET", f"/Communication?recipient=Patient/{world.a['patient']}"
                                    "&category=notification&_sort=-sent")
    notices = [e["resource"] for e in listed.get_json()["entry"]]
    assert len(notices) == 2 and all(n["status"] == "in-progress" for n in notices)
    assert all(n["payload"][0]["contentString"].startswith("Lịch khám") for n in notices)
    assert _unread(world, "A", world.a["patient"]) == 2
    other = world.send("B", "POST", f"/Communication/{notices[0]['id']}/$mark-read")
    assert other.status_code == 404  # not B's to see
    read = world.send("A", "POST", f"/Communication/{notices[0]['id']}/$mark-read")
    assert read.status_code == 200, read.get_json()
    assert read.get_json()["status"] == "completed" and "received" in read.get_json()
    assert _unread(world, "A", world.a["patient"]) == 1
    everything = world.send("A", "POST", "/Communication/$mark-read")
    assert everything.status_code == 200, everything.get_json()
    assert everything.get_json()["parameter"][0] == {"name": "marked", "valueInteger": 1}
    assert _unread(world, "A", world.a["patient"]) == 0
    foreign = world.send("B", "POST", "/Communication/$mark-read", parameters(
        recipient={"reference": f"Patient/{world.a['patient']}"}))
    assert foreign.status_code == 404


def test_reminders_once_and_resumable(world: Campaign, mongo_uri: str, tmp_path: Path,
                                      monkeypatch: pytest.MonkeyPatch) -> None:
    mine = _book(world, world.a["patient"], tomorrow(8), tomorrow(8, 30))
    family = _book(world, world.family, tomorrow(15), tomorrow(15, 30))
    later = _book(world, world.a["patient"], tomorrow(8, days=2), tomorrow(8, 30, days=2))
    gone = _book(world, world.a["patient"], tomorrow(11), tomorrow(11, 30))
    assert world.send("A", "POST", f"/Appointment/{gone}/$cancel").status_code == 200
    settings = world.app.extensions["fhir"].settings
    # an earlier run stopped after writing the family member's notice, before its SMS
    day = datetime.now(VIETNAM).date() + timedelta(days=1)
    svc = world.app.extensions["fhir"].internal()
    svc.store.transact(lambda: record(svc, Notice(
        "reminder", world.family, f"Appointment/{family}", f"reminder/{family}/{day}",
        {"name": "Nguyễn Thị Bé"}), datetime.now(UTC)))
    for name, value in (("MONGODB_URI", mongo_uri), ("FHIR_DATABASE", settings.database),
                        ("FHIR_SMS_GATEWAY", settings.sms_gateway),
                        ("FHIR_BASE_URL", settings.base_url), ("FHIR_LOAD_CONFORMANCE", "0"),
                        ("FHIR_HOME", str(tmp_path))):
        monkeypatch.setenv(name, value)
    assert main(["reminders"]) == 0
    assert main(["reminders", "--date", day.isoformat()]) == 0  # a second run: nothing new
    sms = [t for t in texts(world, world.a["e164"]) if t.startswith("So suc khoe dien tu: Nhắc")]
    assert len(sms) == 2, sms
    assert any("Nguyễn Văn An" in t and "08:00 ngày" in t for t in sms)
    assert any("Nguyễn Thị Bé" in t and "15:00 ngày" in t for t in sms)
    for patient, appointment, count in ((world.a["patient"], mine, 1),
                                        (world.family, family, 1),
                                        (world.a["patient"], later, 0),
                                        (world.a["patient"], gone, 0)):
        found = world.send("A", "GET", f"/Communication?recipient=Patient/{patient}"
                                       f"&identifier=urn:fhir-server:notice|reminder/"
                                       f"{appointment}/{day}&_summary=count")
        assert found.get_json()["total"] == count, (appointment, count)

"""The booking rule over every REST door (issue 14 point 9; FHIR R4 appointment.html "slot",
slot.html "status": busy while an Appointment holds it): POST a booked Appointment takes its
Slot, PUT/PATCH to cancelled frees it, DELETE frees it; a busy or past Slot, an end before the
start, a Slot that ends before it starts are refused with an OperationOutcome naming the field,
and nothing is written."""

from __future__ import annotations

from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pytest
from flask import Flask

from fhir_server.interactions import crud
from tests.api.campaign_world import Campaign, at, expressions


@pytest.fixture(scope="module")
def world(make_app: Callable[..., Flask]) -> Campaign:
    return Campaign(make_app(auth_required=True))


def _appointment(world: Campaign, patient: str, slot: str, start: str, end: str,
                 status: str = "booked") -> dict[str, Any]:
    return {"resourceType": "Appointment", "status": status,
            "slot": [{"reference": f"Slot/{slot}"}], "start": start, "end": end,
            "participant": [{"actor": {"reference": f"Patient/{patient}"}, "status": "accepted"},
                            {"actor": {"reference": f"Practitioner/{world.doctor}"},
                             "status": "accepted"}]}


def _count(world: Campaign, who: str, query: str) -> int:
    response = world.send(who, "GET", f"/Appointment?{query}&_summary=count")
    assert response.status_code == 200, response.get_json()
    return int(response.get_json()["total"])


def test_post_put_patch_delete_take_and_free_the_slot(world: Campaign) -> None:
    schedule = world.schedule(f"Practitioner/{world.doctor}")
    slot = world.slot(schedule, at(2, 9), at(2, 9, 30))
    booked = world.create("A", _appointment(world, world.a["patient"], slot, at(2, 9),
                                            at(2, 9, 30)))
    assert world.read("A", f"Slot/{slot}")["status"] == "busy"
    again = world.send("A", "POST", "/Appointment", _appointment(
        world, world.family, slot, at(2, 9), at(2, 9, 30)))
    assert again.status_code == 409, again.get_json()
    assert expressions(again) == ["Appointment.slot[0]"]
    cancelled = world.send("A", "PUT", f"/Appointment/{booked['id']}",
                           {**booked, "status": "cancelled"})
    assert cancelled.status_code == 200, cancelled.get_json()
    assert world.read("A", f"Slot/{slot}")["status"] == "free"
    rebooked = world.create("A", _appointment(world, world.family, slot, at(2, 9),
                                              at(2, 9, 30)))
    assert world.read("A", f"Slot/{slot}")["status"] == "busy"
    patched = world.send("A", "PATCH", f"/Appointment/{rebooked['id']}",
                         [{"op": "replace", "path": "/status", "value": "cancelled"}])
    assert patched.status_code == 200, patched.get_json()
    assert world.read("A", f"Slot/{slot}")["status"] == "free"
    third = world.create("practitioner", _appointment(world, world.b["patient"], slot,
                                                      at(2, 9), at(2, 9, 30)))
    assert world.send("practitioner", "DELETE", f"/Appointment/{third['id']}").status_code in (
        200, 204)
    assert world.read("A", f"Slot/{slot}")["status"] == "free"


def test_bad_bookings_are_refused_and_write_nothing(world: Campaign) -> None:
    schedule = world.schedule(f"Practitioner/{world.doctor}")
    past = world.slot(schedule, at(-1, 9), at(-1, 9, 30))
    busy = world.slot(schedule, at(3, 9), at(3, 9, 30), status="busy")
    free = world.slot(schedule, at(3, 10), at(3, 10, 30))
    before = _count(world, "A", f"patient=Patient/{world.a['patient']}")
    cases = [(past, at(-1, 9), at(-1, 9, 30), 422, "Appointment.slot[0]"),
             (busy, at(3, 9), at(3, 9, 30), 409, "Appointment.slot[0]"),
             (free, at(3, 10, 30), at(3, 10), 422, "Appointment.end"),
             (free, at(3, 11), at(3, 11, 30), 422, "Appointment.start"),
             ("missing", at(3, 10), at(3, 10, 30), 422, "Appointment.slot[0]")]
    for slot, start, end, status, where in cases:
        response = world.send("A", "POST", "/Appointment", _appointment(
            world, world.a["patient"], slot, start, end))
        assert response.status_code == status, (slot, response.get_json())
        assert response.get_json()["resourceType"] == "OperationOutcome"
        assert where in expressions(response), response.get_json()
    assert _count(world, "A", f"patient=Patient/{world.a['patient']}") == before
    assert world.read("A", f"Slot/{free}")["status"] == "free"
    reversed_slot = world.send("practitioner", "POST", "/Slot", {
        "resourceType": "Slot", "schedule": {"reference": f"Schedule/{schedule}"},
        "status": "free", "start": at(4, 10), "end": at(4, 9)})
    assert reversed_slot.status_code == 422
    assert expressions(reversed_slot) == ["Slot.end"]


def test_someone_elses_patient_cannot_be_booked(world: Campaign) -> None:
    schedule = world.schedule(f"Practitioner/{world.doctor}")
    slot = world.slot(schedule, at(5, 9), at(5, 9, 30))
    response = world.send("B", "POST", "/Appointment", _appointment(
        world, world.a["patient"], slot, at(5, 9), at(5, 9, 30)))
    assert response.status_code == 403, response.get_json()
    assert world.read("B", f"Slot/{slot}")["status"] == "free"


def test_parallel_posts_of_one_slot_exactly_one_wins(world: Campaign) -> None:
    schedule = world.schedule(f"Practitioner/{world.doctor}")
    slot = world.slot(schedule, at(6, 9), at(6, 9, 30))
    body = _appointment(world, world.b["patient"], slot, at(6, 9), at(6, 9, 30))

    def post(_n: int) -> int:
        client = world.app.test_client()
        return client.post("/Appointment", json=body, headers={
            "Content-Type": "application/fhir+json", **world.tokens["practitioner"]}
        ).status_code

    with ThreadPoolExecutor(12) as pool:
        statuses = list(pool.map(post, range(12)))
    assert sorted(statuses) == [201] + [409] * 11, statuses
    assert _count(world, "practitioner", f"slot=Slot/{slot}") == 1
    assert world.read("A", f"Slot/{slot}")["status"] == "busy"


def test_transaction_bundles_follow_the_rule(world: Campaign) -> None:
    schedule = world.schedule(f"Practitioner/{world.doctor}")
    slot = world.slot(schedule, at(8, 9), at(8, 9, 30))
    booking = _appointment(world, world.b["patient"], slot, at(8, 9), at(8, 9, 30))

    def bundle(*resources: dict[str, Any]) -> dict[str, Any]:
        return {"resourceType": "Bundle", "type": "transaction", "entry": [
            {"fullUrl": f"urn:uuid:0000000{n}-0000-4000-8000-000000000000", "resource": r,
             "request": {"method": "POST", "url": r["resourceType"]}}
            for n, r in enumerate(resources)]}

    twice = world.send("practitioner", "POST", "/", bundle(booking, booking))
    assert twice.status_code == 409, twice.get_json()
    assert _count(world, "practitioner", f"slot=Slot/{slot}") == 0  # nothing written
    assert world.read("A", f"Slot/{slot}")["status"] == "free"
    once = world.send("practitioner", "POST", "/", bundle(booking))
    assert once.status_code == 200, once.get_json()
    assert world.read("A", f"Slot/{slot}")["status"] == "busy"
    new_slot = {"resourceType": "Slot", "schedule": {"reference": f"Schedule/{schedule}"},
                "status": "free", "start": at(8, 10), "end": at(8, 10, 30)}
    together = _appointment(world, world.b["patient"], "x", at(8, 10), at(8, 10, 30))
    together["slot"] = [{"reference": "urn:uuid:00000000-0000-4000-8000-000000000000"}]
    both = world.send("practitioner", "POST", "/", bundle(new_slot, together))
    assert both.status_code == 200, both.get_json()
    made = both.get_json()["entry"][0]["response"]["location"].split("/")[1]
    assert world.read("A", f"Slot/{made}")["status"] == "busy"


def test_history_may_hold_past_slots(world: Campaign) -> None:
    """A finished visit (status fulfilled) or the server's own import keeps a past Slot busy;
    only a new booking by a caller needs a future one."""
    schedule = world.schedule(f"Practitioner/{world.doctor}")
    past = world.slot(schedule, at(-3, 9), at(-3, 9, 30))
    older = world.slot(schedule, at(-4, 9), at(-4, 9, 30))
    visit = _appointment(world, world.a["patient"], past, at(-3, 9), at(-3, 9, 30),
                         status="fulfilled")
    assert world.send("practitioner", "POST", "/Appointment", visit).status_code == 201
    assert world.read("A", f"Slot/{past}")["status"] == "busy"
    imported = _appointment(world, world.a["patient"], older, at(-4, 9), at(-4, 9, 30))
    crud.create(world.app.extensions["fhir"].internal(), "Appointment", imported)
    assert world.read("A", f"Slot/{older}")["status"] == "busy"

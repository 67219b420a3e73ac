"""Which slots a write takes and frees (FHIR R4 appointment.html "slot"; slot.html "status")."""

from __future__ import annotations

import pytest

from fhir_server.errors import Unprocessable
from fhir_server.scheduling.rules import check_period, released, slot_ids, taken


def _appt(status: str, *slots: str) -> dict[str, object]:
    return {"resourceType": "Appointment", "status": status,
            "slot": [{"reference": s} for s in slots]}


def test_slot_ids_read_relative_and_absolute_references() -> None:
    appointment = _appt("booked", "Slot/a", "https://fhir.test/fhir/Slot/b",
                        "Slot/c/_history/2", "Schedule/x")
    assert slot_ids(appointment) == [(0, "a"), (1, "b"), (2, "c")]


@pytest.mark.parametrize(("before", "after", "takes", "frees"), [
    (None, _appt("booked", "Slot/a"), ["a"], []),
    (None, _appt("proposed", "Slot/a"), [], []),
    (_appt("proposed", "Slot/a"), _appt("booked", "Slot/a"), ["a"], []),
    (_appt("booked", "Slot/a"), _appt("booked", "Slot/a"), [], []),
    (_appt("booked", "Slot/a"), _appt("booked", "Slot/b"), ["b"], ["a"]),
    (_appt("booked", "Slot/a"), _appt("cancelled", "Slot/a"), [], ["a"]),
    (_appt("booked", "Slot/a"), _appt("fulfilled", "Slot/a"), [], []),
    (_appt("arrived", "Slot/a"), None, [], ["a"]),
    (_appt("cancelled", "Slot/a"), _appt("booked", "Slot/a"), ["a"], []),
])
def test_taken_and_released(before: dict[str, object] | None, after: dict[str, object] | None,
                            takes: list[str], frees: list[str]) -> None:
    assert [sid for _i, sid in taken(after, before)] == takes
    assert released(after, before) == frees


def test_periods() -> None:
    check_period({"start": "2021-08-15T08:00:00Z", "end": "2021-08-15T08:00:00Z"}, "Appointment")
    with pytest.raises(Unprocessable) as error:
        check_period({"start": "2021-08-15T08:00:00Z", "end": "2021-08-15T08:00:00Z"}, "Slot",
                     strict=True)
    assert error.value.issues[0].expression == ("Slot.end",)
    with pytest.raises(Unprocessable):
        check_period({"start": "2021-08-15T09:00:00+07:00", "end": "2021-08-15T01:30:00Z"},
                     "Appointment")

"""The booking rule (FHIR R4 appointment.html, slot.html): an Appointment that holds its slots
(booked, arrived, checked-in, fulfilled) has marked each of them busy, atomically.

Whatever the door (POST/PUT/PATCH/DELETE Appointment, a bundle entry, $book, $cancel), the
Repository runs this rule (write_rules.py). A write that takes a Slot needs the Slot to exist,
be free and, for a new booking, not be in the past (422 / 409 at `Appointment.slot[i]`; the
server's own imports of history, and arrived or fulfilled visits, may hold past slots). The
Appointment's end may not be before its start, and a booked one lies within its slots (422 at
`Appointment.end` / `Appointment.start`). Inside the write's transaction each taken Slot is
re-read and updated with its version as a condition (compare-and-set), so of two concurrent
bookings of one Slot exactly one commits (the other meets the write conflict, is re-run and
finds the Slot busy: 409). An Appointment that stops holding a Slot (cancelled, noshow,
entered-in-error, deleted, or the slot removed) frees it. Slots end after they start.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from datetime import UTC, datetime
from typing import Any

from fhir_server.auth.principal import INTERNAL, INTERNAL_PRINCIPAL
from fhir_server.errors import (
    Conflict,
    FhirError,
    Gone,
    NotFound,
    PreconditionFailed,
    Unprocessable,
)
from fhir_server.fhirdates import parse_instant
from fhir_server.repository import Repository
from fhir_server.write_rules import add_write_rule

HOLDING = frozenset({"booked", "arrived", "checked-in", "fulfilled"})
Resource = Mapping[str, Any] | None


def slot_ids(appointment: Resource) -> list[tuple[int, str]]:
    """(index, Slot id) of each literal Slot reference of an Appointment."""
    found: list[tuple[int, str]] = []
    for index, ref in enumerate((appointment or {}).get("slot") or []):
        text = str(ref.get("reference") or "") if isinstance(ref, dict) else ""
        head, _, tail = text.split("/_history/")[0].rstrip("/").rpartition("/")
        if (head == "Slot" or head.endswith("/Slot")) and tail:
            found.append((index, tail))
    return found


def holds(appointment: Resource) -> bool:
    """True when the Appointment keeps its slots busy."""
    return appointment is not None and appointment.get("status") in HOLDING


def taken(proposed: Resource, current: Resource) -> list[tuple[int, str]]:
    """The slots this write takes (held by the proposed content, not yet by the current)."""
    if not holds(proposed):
        return []
    before = {sid for _i, sid in slot_ids(current)} if holds(current) else set()
    return [(i, sid) for i, sid in slot_ids(proposed) if sid not in before]


def released(proposed: Resource, current: Resource) -> list[str]:
    """The slots this write frees (held by the current content, no longer by the proposed)."""
    if not holds(current):
        return []
    kept = {sid for _i, sid in slot_ids(proposed)} if holds(proposed) else set()
    return [sid for _i, sid in slot_ids(current) if sid not in kept]


def _instant(resource: Mapping[str, Any], name: str, where: str) -> datetime | None:
    value = resource.get(name)
    return parse_instant(str(value), f"{where}.{name}") if value else None


def check_period(resource: Mapping[str, Any], type_name: str, strict: bool = False) -> None:
    """422 at `end` when it is before `start` (or not after it, `strict`: a Slot)."""
    start = _instant(resource, "start", type_name)
    end = _instant(resource, "end", type_name)
    if start is not None and end is not None and (end <= start if strict else end < start):
        raise Unprocessable.at(f"{type_name}.end ({resource.get('end')}) is before "
                               f"{type_name}.start ({resource.get('start')})",
                               f"{type_name}.end", "invariant")


def booking(repo: Repository, proposed: Resource) -> bool:
    """True for a booking made now (status booked, not the server's own import of history):
    its slots must lie in the future; an arrived or fulfilled visit may have begun."""
    return repo.caller.kind != INTERNAL and (proposed or {}).get("status") == "booked"


def _internal(repo: Repository) -> Repository:
    return Repository(repo.store, INTERNAL_PRINCIPAL, repo.base_url, repo.recorder, repo.unit)


def _slot(repo: Repository, index: int, slot_id: str) -> tuple[dict[str, Any], int]:
    try:
        version = _internal(repo).read("Slot", slot_id)
    except (NotFound, Gone):
        raise Unprocessable.at(f"Slot/{slot_id} does not exist", f"Appointment.slot[{index}]",
                               "not-found") from None
    return dict(version.resource or {}), version.version


class BookingRule:
    """Appointment writes take and free Slots (see the module docstring)."""

    def __init__(self, clock: Callable[[], datetime] = lambda: datetime.now(UTC)) -> None:
        self.clock = clock

    def _check_slot(self, slot: Mapping[str, Any], index: int, slot_id: str,
                    future: bool = True) -> None:
        where = f"Appointment.slot[{index}]"
        if slot.get("status") != "free":
            raise Conflict.at(f"Slot/{slot_id} is not free (status {slot.get('status')})",
                              where)
        start = _instant(slot, "start", "Slot")
        if future and start is not None and start < self.clock():
            raise Unprocessable.at(f"Slot/{slot_id} starts in the past ({slot.get('start')})",
                                   where, "business-rule")

    def _check_within(self, appointment: Mapping[str, Any],
                      slots: Sequence[Mapping[str, Any]]) -> None:
        if not slots:
            return
        for name in ("start", "end"):
            if not appointment.get(name):
                raise Unprocessable.at(f"A booked Appointment has a {name} (app-3)",
                                       f"Appointment.{name}", "required")
        start = _instant(appointment, "start", "Appointment")
        end = _instant(appointment, "end", "Appointment")
        lows = [_instant(s, "start", "Slot") for s in slots]
        highs = [_instant(s, "end", "Slot") for s in slots]
        low = min(x for x in lows if x is not None) if any(lows) else None
        high = max(x for x in highs if x is not None) if any(highs) else None
        if (low is not None and start is not None and start < low) or (
                high is not None and end is not None and end > high):
            raise Unprocessable.at("The Appointment's start and end lie outside its slots",
                                   "Appointment.start", "business-rule")

    def check(self, repo: Repository, proposed: Resource, current: Resource) -> bool:
        """Refuse a bad period or an unavailable slot; True when slots change hands."""
        if proposed is not None:
            check_period(proposed, "Appointment")
        claims = taken(proposed, current)
        slots = []
        for index, slot_id in claims:
            slot, _version = _slot(repo, index, slot_id)
            self._check_slot(slot, index, slot_id, booking(repo, proposed))
            slots.append(slot)
        if claims and proposed is not None:
            self._check_within(proposed, slots)
        return bool(claims or released(proposed, current))

    def apply(self, repo: Repository, proposed: Resource, current: Resource) -> None:
        """Mark the taken slots busy and the released ones free (compare-and-set each)."""
        internal = _internal(repo)
        for index, slot_id in taken(proposed, current):
            slot, version = _slot(repo, index, slot_id)
            self._check_slot(slot, index, slot_id, booking(repo, proposed))
            try:
                internal.update("Slot", slot_id, {**slot, "status": "busy"}, version)
            except PreconditionFailed:  # taken between our read and our write
                raise Conflict.at(f"Slot/{slot_id} was just booked by someone else",
                                  f"Appointment.slot[{index}]") from None
        for slot_id in released(proposed, current):
            try:
                found = internal.read("Slot", slot_id)
            except FhirError:
                continue  # a deleted Slot has nothing to free
            slot = dict(found.resource or {})
            if slot.get("status") == "busy":
                internal.update("Slot", slot_id, {**slot, "status": "free"}, found.version)


class SlotRule:
    """A Slot ends after it starts (slot.html: start and end 1..1)."""

    def check(self, repo: Repository, proposed: Resource, current: Resource) -> bool:
        """422 at Slot.end when the period is empty or reversed; never dependent writes."""
        if proposed is not None:
            check_period(proposed, "Slot", strict=True)
        return False

    def apply(self, repo: Repository, proposed: Resource, current: Resource) -> None:
        """Nothing depends on a Slot write."""


BOOKING = BookingRule()
add_write_rule("Appointment", BOOKING)
add_write_rule("Slot", SlotRule())

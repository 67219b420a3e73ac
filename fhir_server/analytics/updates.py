"""Keeping the rollup current: change one person's facts, recompute their contributions and
apply the difference to the cells (`$inc` deltas), plus their serious-event listing. Used by
the after-write effects (effects.py) and by `fhir-server analytics rebuild` (rebuild.py)."""

from __future__ import annotations

import copy
import logging
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from contextvars import ContextVar
from typing import Any

from fhir_server.analytics.facts import Key, contributions, entry_id, field_key, serious_listing
from fhir_server.analytics.rollup import CUBES, cell_fields, cell_id, delta
from fhir_server.storage.analytics_cells import AnalyticsCells
from fhir_server.storage.analytics_facts import AnalyticsFacts, analytics_db

log = logging.getLogger(__name__)
Doc = dict[str, Any]
Ledger = dict[Key, dict[str, int]]
Edits = list[tuple[str, Callable[[Doc], None]]]
# inside deferred_rollup(): the rollup that will apply the edits, and the edits collected
_deferred: ContextVar[tuple[list[Rollup], Edits] | None] = ContextVar("deferred_rollup",
                                                                      default=None)


_suspended: ContextVar[bool] = ContextVar("suspended_rollup", default=False)


@contextmanager
def suspended_rollup() -> Iterator[None]:
    """No rollup at all for the writes inside (a bulk load followed by `rebuild`)."""
    token = _suspended.set(True)
    try:
        yield
    finally:
        _suspended.reset(token)


@contextmanager
def deferred_rollup() -> Iterator[None]:
    """Collect the rollup edits of several writes (e.g. a seed chunk's Patients, Appointments,
    doses and reactions) and apply them at the end as one change: each person's document is
    swapped once and each cell incremented once, instead of once per write."""
    if _deferred.get() is not None:  # nested: the outer one applies them
        yield
        return
    pending: tuple[list[Rollup], Edits] = ([], [])
    token = _deferred.set(pending)
    try:
        yield
    finally:
        _deferred.reset(token)
    rollups, edits = pending
    if rollups and edits:
        try:
            rollups[0].change_many(edits)
        except Exception:  # noqa: BLE001 - like any effect: the writes stand, rebuild recovers
            log.exception("deferred analytics rollup of %d edits failed", len(edits))


def ledger_of(doc: Mapping[str, Any]) -> Ledger:
    """The contributions last rolled up for a person (as stored)."""
    return {tuple(key): dict(counts) for key, counts in doc.get("ledger", [])}


def with_ledger(doc: Doc) -> Doc:
    """The person document with its contributions and serious events recomputed."""
    doc["ledger"] = [[list(key), counts] for key, counts in sorted(contributions(doc).items())]
    doc["serious"] = serious_listing(doc)
    return doc


def _changed(steps: Sequence[Callable[[Doc], None]]) -> Callable[[Doc], Doc]:
    def changed(old: Doc) -> Doc:
        new = copy.deepcopy(old)
        for step in steps:
            step(new)
        return with_ledger(new)
    return changed


class Rollup:
    """The facts and cells of one database, changed person by person."""

    def __init__(self, source: Any) -> None:
        db = analytics_db(source)
        self.facts, self.cells = AnalyticsFacts(db), AnalyticsCells(db)

    def change(self, person_id: str, edit: Callable[[Doc], None]) -> None:
        """Apply edit to a copy of the person's document, store it, roll up the change."""
        self.change_many([(person_id, edit)])

    def change_many(self, edits: Sequence[tuple[str, Callable[[Doc], None]]]) -> None:
        """Several edits (of one or more people) stored and rolled up together (at the end
        of the enclosing deferred_rollup(), when there is one)."""
        if _suspended.get():
            return
        pending = _deferred.get()
        if pending is not None:
            if not pending[0]:
                pending[0].append(self)
            pending[1].extend(edits)
            return
        grouped: dict[str, list[Callable[[Doc], None]]] = {}
        for person_id, edit in edits:
            if person_id:
                grouped.setdefault(person_id, []).append(edit)
        if not grouped:
            return
        if len(grouped) == 1:
            person_id, steps = next(iter(grouped.items()))
            pairs = [self.facts.swap(person_id, _changed(steps))]
        else:
            pairs = self.facts.swap_many({p: _changed(steps) for p, steps in grouped.items()})
        total: dict[Key, dict[str, int]] = {}
        removed: list[str] = []
        kept: dict[str, Doc] = {}
        for old, new in pairs:
            for key, counts in delta(ledger_of(old), ledger_of(new)).items():
                cell = total.setdefault(key, {})
                for measure, count in counts.items():
                    cell[measure] = cell.get(measure, 0) + count
            before, after = old.get("serious") or {}, new["serious"]
            removed += [entry_id(i) for i in before if i not in after]
            kept.update({entry_id(i): d for i, d in after.items() if before.get(i) != d})
        self.apply(total)
        self.facts.list_serious(removed, kept)

    def apply(self, changes: Mapping[Key, Mapping[str, int]]) -> None:
        """Add finest-grain count changes to every cube (one write for all of them)."""
        by_cube: dict[str, dict[str, tuple[dict[str, str], dict[str, int]]]] = {}
        for cube in CUBES:
            cells = by_cube[cube.name] = {}
            for key, counts in changes.items():
                fields, total = cells.setdefault(cell_id(cube, key),
                                                 (cell_fields(cube, key), {}))
                for measure, count in counts.items():
                    total[measure] = total.get(measure, 0) + count
        self.cells.increment_cubes(by_cube)


def set_entry(section: str, entry_id: str, fact: Doc | None) -> Callable[[Doc], None]:
    """An edit putting (or, for None, removing) one fact of a section of the document."""
    def edit(doc: Doc) -> None:
        entries = doc.setdefault(section, {})
        if fact is None:
            entries.pop(field_key(entry_id), None)
        else:
            entries[field_key(entry_id)] = fact
    return edit


def set_mark(dose_id: str, kind: str, source_id: str, present: bool) -> Callable[[Doc], None]:
    """An edit adding or removing one confirmation (p) or dispute (f) of a dose."""
    def edit(doc: Doc) -> None:
        mark = doc.setdefault("marks", {}).setdefault(field_key(dose_id), {"p": [], "f": []})
        ids = [i for i in mark.get(kind, []) if i != source_id]
        mark[kind] = sorted([*ids, source_id]) if present else ids
    return edit


def set_area(area: Doc) -> Callable[[Doc], None]:
    """An edit setting the person's area."""
    def edit(doc: Doc) -> None:
        doc["area"] = area
    return edit

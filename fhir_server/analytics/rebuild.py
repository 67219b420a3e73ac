"""`fhir-server analytics rebuild`: recompute every analytics fact and cell from the stored
resources (recovery when an after-write effect failed), read through the Repository acting as
the server. Facts are made by the same pure functions as the effects; the cells are summed here
and inserted at once (the cubes are emptied first: run it while nobody writes)."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

from fhir_server.analytics import facts
from fhir_server.analytics.effects import SECTIONS
from fhir_server.analytics.rollup import CUBES, cell_fields, cell_id
from fhir_server.analytics.updates import Rollup, set_area, set_entry, set_mark, with_ledger
from fhir_server.interactions.context import Services
from fhir_server.search.criteria import EVERYTHING

Doc = dict[str, Any]
TYPES = ("Patient", *SECTIONS, "Provenance", "Flag")


@dataclass
class RebuildReport:
    """What a rebuild read and wrote."""

    resources: dict[str, int] = field(default_factory=dict)
    people: int = 0
    cells: dict[str, int] = field(default_factory=dict)

    def summary(self) -> str:
        """One line for the operator."""
        read = ", ".join(f"{t} {n}" for t, n in self.resources.items())
        cells = ", ".join(f"{c} {n}" for c, n in self.cells.items())
        return f"analytics rebuilt: read {read}; {self.people} people; cells {cells}"


def _resources(svc: Services, type_name: str) -> Iterator[tuple[str, Doc]]:
    for version in svc.store.find(type_name, EVERYTHING):
        if version.resource is not None:
            yield version.id, version.resource


def person_documents(svc: Services, report: RebuildReport) -> dict[str, Doc]:
    """Every person's fact document, from the stored resources."""
    people: dict[str, Doc] = {}

    def edit(person_id: str, step: Any) -> None:
        if person_id:
            step(people.setdefault(person_id, {"_id": person_id, "v": 0}))
    owners: dict[str, str] = {}
    for type_name in TYPES:
        count = 0
        for resource_id, resource in _resources(svc, type_name):
            count += 1
            if type_name == "Patient":
                edit(resource_id, set_area(facts.patient_fact(resource)))
            elif type_name in SECTIONS:
                section, fact_of, person_of = SECTIONS[type_name]
                edit(person_of(resource), set_entry(section, resource_id, fact_of(resource)))
                if type_name == "Immunization":
                    owners[resource_id] = person_of(resource)
            elif type_name == "Provenance":
                for dose in facts.confirmed_doses(resource):
                    edit(owners.get(dose, ""), set_mark(dose, "p", resource_id, True))
            else:
                dose = facts.disputed_dose(resource)
                edit(owners.get(dose, ""), set_mark(dose, "f", resource_id, True))
        report.resources[type_name] = count
    return people


def cells_of(people: list[Doc]) -> dict[str, list[Doc]]:
    """Every cube's cells summed over these person documents (with their ledgers)."""
    cubes: dict[str, dict[str, Doc]] = {cube.name: {} for cube in CUBES}
    for doc in people:
        for key, counts in doc["ledger"]:
            for cube in CUBES:
                ident = cell_id(cube, tuple(key))
                cell = cubes[cube.name].get(ident)
                if cell is None:
                    cell = cubes[cube.name][ident] = {"_id": ident, "n": {},
                                                      **cell_fields(cube, tuple(key))}
                for measure, count in counts.items():
                    cell["n"][measure] = cell["n"].get(measure, 0) + count
    return {name: list(cells.values()) for name, cells in cubes.items()}


def load(rollup: Rollup, people: list[Doc], report: RebuildReport | None = None) -> None:
    """Replace every fact and cell by these person documents (ledgers computed here)."""
    docs = [with_ledger(doc) for doc in people]
    rollup.facts.clear()
    rollup.cells.clear()
    for first in range(0, len(docs), 2000):
        rollup.facts.insert_people(docs[first:first + 2000])
    listed = {facts.entry_id(i): d for doc in docs for i, d in doc["serious"].items()}
    rollup.facts.list_serious([], listed)
    for cube, cells in cells_of(docs).items():
        rollup.cells.insert(cube, cells)
        if report is not None:
            report.cells[cube] = len(cells)


def rebuild(svc: Services) -> RebuildReport:
    """Recompute all analytics from the stored resources (svc acts as the server)."""
    report = RebuildReport()
    people = person_documents(svc, report)
    report.people = len(people)
    load(Rollup(svc.store), list(people.values()), report)
    return report

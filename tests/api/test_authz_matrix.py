"""The authorization matrix as data (issue 11 point 6): tests/data/authz_matrix.json expanded into
caller x door x target cells by tests/api/authz_matrix.py and performed over HTTP with
FHIR_AUDIT=all. Asserts 0 leaks, 0 unauthorised writes, 0 missing AuditEvents (and the expected
outcome per caller class). Known server defects are listed in the JSON's known_failures and run
as strict xfails, cell by cell. The break-a-door tests bypass the Repository on purpose (a route
reading the raw store, the Repository's filter switched off, its write check switched off, its
audit dropped) and show the matrix catching each.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import pytest
from flask import Flask, request

from fhir_server import access
from fhir_server.repository import Repository
from fhir_server.rest.context import request_services
from fhir_server.rest.responses import resource_response
from tests.api.authz_matrix import (
    CALLERS,
    MATRIX,
    Cell,
    MatrixWorld,
    Report,
    all_cells,
    cells_for,
    known_failures,
    run,
)

MIN_CELLS = 500  # the whole matrix
MIN_CELLS_PER_CALLER = 100
KNOWN = known_failures()


@pytest.fixture(scope="module")
def world(make_app: Callable[..., Flask], tmp_path_factory: pytest.TempPathFactory
          ) -> MatrixWorld:
    exports = tmp_path_factory.mktemp("authz-exports")
    return MatrixWorld(make_app(auth_required=True, audit="all", export_dir=str(exports)))


def _summary(caller: str, report: Report) -> str:
    slowest = [(door, round(seconds, 2)) for door, seconds in report.seconds.most_common(3)]
    return (f"{caller}: {report.tried[caller]} cells tried, {report.resources_seen} resources "
            f"checked, {report.audited} AuditEvents checked; slowest doors {slowest}")


@pytest.mark.parametrize("caller", list(CALLERS))
def test_matrix(world: MatrixWorld, caller: str) -> None:
    report = run(world, cells_for(world, caller))
    print("\n" + _summary(caller, report))
    assert report.tried[caller] >= MIN_CELLS_PER_CALLER
    assert not report.failures, report.render()


def test_matrix_size(world: MatrixWorld) -> None:
    sizes = {caller: len(cells_for(world, caller, with_known=True)) for caller in CALLERS}
    clean = sum(len(cells_for(world, caller)) for caller in CALLERS)
    print(f"\nmatrix: {sum(sizes.values())} cells from {len(MATRIX['doors'])} doors, per caller "
          f"{sizes}; {sum(sizes.values()) - clean} of them known failures (strict xfail)")
    assert sum(sizes.values()) >= MIN_CELLS
    assert len(all_cells()) >= sum(sizes.values())


class KnownFailure(AssertionError):
    """A known server defect showed (the xfail's expected exception)."""


def _known() -> list[Any]:
    return [pytest.param(cell, kinds, id=cell.name,
                         marks=pytest.mark.xfail(strict=True, raises=KnownFailure, reason=why))
            for cell, (kinds, why) in sorted(KNOWN.items(), key=lambda item: item[0].name)]


@pytest.mark.parametrize(("cell", "kinds"), _known())
def test_known_failure(world: MatrixWorld, cell: Cell, kinds: frozenset[str]) -> None:
    """A known defect cell: it fails only in the listed ways (XPASS: fixed, drop the entry)."""
    if cell not in cells_for(world, cell.caller, doors=[cell.door], with_known=True):
        pytest.skip("the placeholders of this cell do not resolve")
    report = run(world, [cell])
    unexpected = [failure for failure in report.failures if failure.kind not in kinds]
    assert not unexpected, report.render()  # a new kind of failure: a real failure, no xfail
    if report.failures:
        raise KnownFailure(report.render())


# -- break a door on purpose: the matrix must notice ----------------------------------------------

def _raw_store_read(world: MatrixWorld, monkeypatch: pytest.MonkeyPatch) -> None:
    """GET [type]/[id] reads the raw store instead of the Repository (a door around the door)."""
    def read(type_name: str, resource_id: str) -> Any:
        svc = request_services()
        version = svc.store.store.read(type_name, resource_id)
        return resource_response(request, version, svc.settings.base_url)

    read.fhir_interaction = "read"  # type: ignore[attr-defined]
    monkeypatch.setitem(world.app.view_functions, "fhir_resources.read", read)


def _filter_off(world: MatrixWorld, monkeypatch: pytest.MonkeyPatch) -> None:
    """The Repository's read authorization lets everything through (query filter and check)."""
    monkeypatch.setattr(access, "visible", lambda *args, **kwargs: True)
    monkeypatch.setattr(access, "restriction", lambda *args, **kwargs: None)


def _write_check_off(world: MatrixWorld, monkeypatch: pytest.MonkeyPatch) -> None:
    """The Repository stores whatever a caller writes."""
    monkeypatch.setattr(access, "check_write", lambda *args, **kwargs: None)


def _audit_dropped(world: MatrixWorld, monkeypatch: pytest.MonkeyPatch) -> None:
    """The Repository forgets to hand its audit units to the recorder."""
    monkeypatch.setattr(Repository, "finish", lambda self, unit, status: None)


BREAKS = {  # how the door is broken, on which cells, which failure the matrix must report
    "route-reads-raw-store": (_raw_store_read, ["citizen_a", "citizen_b"], [
        "read-patient", "read-immunization", "read-adverse-event", "read-communication",
        "read-flag", "read-group", "read-audit-event"], "LEAK"),
    "repository-filter-off": (_filter_off, ["citizen_with_family"], [
        "search-all-immunizations", "search-include", "search-revinclude", "search-chain",
        "search-has", "history-moved", "everything", "batch-read"], "LEAK"),
    "write-check-off": (_write_check_off, ["citizen_b"], [
        "create-adverse-event", "update-adverse-event", "patch-adverse-event",
        "create-immunization"], "UNAUTHORISED WRITE"),
    "audit-dropped": (_audit_dropped, ["citizen_a"], [
        "read-patient", "read-immunization", "search-by-patient", "everything"],
        "MISSING AUDIT"),
}


@pytest.fixture()
def broken(world: MatrixWorld, monkeypatch: pytest.MonkeyPatch) -> Iterator[
        Callable[[str], None]]:
    yield lambda name: BREAKS[name][0](world, monkeypatch)


@pytest.mark.parametrize("name", list(BREAKS))
def test_a_broken_door_is_caught(world: MatrixWorld, broken: Callable[[str], None],
                                 name: str) -> None:
    _, callers, doors, kind = BREAKS[name]
    cells = [cell for caller in callers for cell in cells_for(world, caller, doors=doors)]
    assert len(cells) >= len(doors)
    before = run(world, cells)
    assert before.count(kind) == 0, before.render()  # the intact door: clean
    broken(name)
    after = run(world, cells)
    print(f"\n{name}: {len(cells)} cells, {after.count(kind)} x {kind}\n{after.render(8)}")
    assert after.count(kind) > 0, after.render()

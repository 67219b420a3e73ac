"""`fhir-server analytics rebuild` (issue 15 point 1: recovery when an effect failed): the
command is wired, and a rebuild repairs cells an effect did not update."""

from __future__ import annotations

from collections.abc import Callable

from flask import Flask

from fhir_server.analytics.indicators import compute
from fhir_server.analytics.query import IndicatorQuery
from fhir_server.analytics.rebuild import rebuild
from fhir_server.cli import build_parser, cmd_analytics
from fhir_server.storage.analytics_cells import AnalyticsCells
from fhir_server.storage.analytics_facts import analytics_db
from tests.analytics.conftest import campaign_services, tally


def test_the_command_is_wired() -> None:
    args = build_parser().parse_args(["analytics", "rebuild"])
    assert args.func is cmd_analytics and args.action == "rebuild"


def test_rebuild_repairs_lost_cells(make_app: Callable[..., Flask]) -> None:
    svc = campaign_services(make_app, 6)
    doses = len(tally(svc).doses)
    AnalyticsCells(analytics_db(svc.store)).clear()  # as if the effects had failed
    assert compute(svc.store, IndicatorQuery("doses"))[0].counts["doses"] == 0
    report = rebuild(svc)
    assert report.people == 6 and report.cells["all"] > 0
    assert compute(svc.store, IndicatorQuery("doses"))[0].counts["doses"] == doses
    assert "analytics rebuilt" in report.summary()

"""`fhir-server analytics rebuild` (issue 15 point 1: recovery when an effect failed): the
command is wired, and a rebuild repairs cells an effect did not update."""

from __future__ import annotations

from collections.abc import Callable

from flask import Flask

from fhir_server.analytics.indicators import compute
from fhir_server.analytics.query import IndicatorQuery
from fhir_server.analytics.rebuild import rebuild
from fhir_server.analytics.updates import deferred_rollup
from fhir_server.cli import build_parser, cmd_analytics
from fhir_server.interactions.context import Services
from fhir_server.storage.analytics_cells import AnalyticsCells
from fhir_server.storage.analytics_facts import AnalyticsFacts, analytics_db
from fhir_server.synthetic.writer import SeedOptions, seed_campaign
from tests.analytics.conftest import PROVINCE_URL, TODAY, campaign_services, tally


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


def test_the_seeds_deferred_rollup_equals_a_rebuild(make_app: Callable[..., Flask]) -> None:
    """The seed rolls a chunk's people up once at its end (updates.deferred_rollup): the cells
    equal those a rebuild makes from the stored resources."""
    svc = campaign_services(make_app, 12)
    by = ("province", "group", "vaccine", "day")
    queries = [IndicatorQuery("doses", by=by), IndicatorQuery("coverage", by=("province",)),
               IndicatorQuery("planning", by=("group",)),
               IndicatorQuery("adverse-events", by=("vaccine", "lot"))]
    seeded = [sorted((sorted(c.key.items()), sorted(c.counts.items()))
                     for c in compute(svc.store, q)) for q in queries]
    assert seeded[0], "the seed left no cells"
    rebuild(svc)
    assert [sorted((sorted(c.key.items()), sorted(c.counts.items()))
                   for c in compute(svc.store, q)) for q in queries] == seeded


def test_deferred_rollup_writes_at_the_end_only(make_app: Callable[..., Flask]) -> None:
    svc = campaign_services(make_app, 0)
    patient = {"resourceType": "Patient", "address": [{"extension": [{
        "url": PROVINCE_URL, "valueCoding": {"code": "01"}}]}]}
    with deferred_rollup():
        stored_version = svc.store.create_many("Patient", [svc.checked(patient, "Patient")[0]])[0]
        assert AnalyticsFacts(analytics_db(svc.store)).person(stored_version.id) is None
    assert AnalyticsFacts(analytics_db(svc.store)).person(stored_version.id) is not None


def test_a_seed_with_rebuild_counts_the_same(make_app: Callable[..., Flask]) -> None:
    """SeedOptions.rebuild (`seed --rebuild-analytics`): no rollup per chunk, one rebuild at
    the end; the indicators equal the independent tally."""
    svc: Services = make_app().extensions["fhir"].internal()
    report = seed_campaign(svc, SeedOptions(10, seed_number=7, progress=False, today=TODAY,
                                            rebuild=True))
    assert "analytics rebuilt" in report.summary()
    counted = tally(svc)
    assert compute(svc.store, IndicatorQuery("doses"))[0].counts["doses"] == len(counted.doses)
    people = compute(svc.store, IndicatorQuery("coverage"))[0].counts["people_1plus"]
    assert people == counted.people_with(lambda doses, series: doses >= 1)

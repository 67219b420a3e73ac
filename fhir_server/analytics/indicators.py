"""Compute an IndicatorQuery in MongoDB (aggregation pipelines over the analytics facts and
rollup cells kept current by effects.py)."""

from __future__ import annotations

from typing import Any

from fhir_server.analytics.query import Cell, IndicatorQuery, SeriousEvent, validate


def compute(source: Any, query: IndicatorQuery) -> list[Cell]:
    """The cells of an indicator; source is a Repository (its store's database is read, no
    resource leaves) or an analytics facts store. Raises InvalidRequest for a bad query."""
    validate(query)
    raise NotImplementedError("analytics engine in progress")


def serious_events(source: Any, query: IndicatorQuery) -> list[SeriousEvent]:
    """The serious adverse events of the query's period/area/group/vaccine (no subject)."""
    validate(query)
    raise NotImplementedError("analytics engine in progress")

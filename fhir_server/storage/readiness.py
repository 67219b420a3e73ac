"""The indexes /readyz expects (issue 16 point 2): the store's and the search indexes on a
bounded sample of types, and the analytics cubes' (one listIndexes each per probe)."""

from __future__ import annotations

from typing import Any

from pymongo.database import Database

from fhir_server.search.registry import date_params
from fhir_server.storage.analytics_cells import COLLECTION, LEAD_INDEXES
from fhir_server.storage.analytics_facts import SERIOUS
from fhir_server.storage.mongo import HISTORY
from fhir_server.storage.search_indexes import index_specs

# the types every deployment serves
CHECKED_TYPES = ("Patient", "Immunization", "Observation", "Appointment", "AuditEvent")
HISTORY_INDEXES = ("type_id_version", "ts", "type_ts")


def missing_indexes(db: Database[Any], types: tuple[str, ...] = CHECKED_TYPES) -> list[str]:
    """`collection.index` names that should exist and do not (the store's and search's)."""
    missing = [f"{HISTORY}.{name}" for name in HISTORY_INDEXES
               if name not in db[HISTORY].index_information()]
    for type_name in types:
        present = db[type_name].index_information()
        wanted = ["ts", *(name for name, _ in index_specs(type_name, date_params(type_name)))]
        missing += [f"{type_name}.{name}" for name in wanted if name not in present]
    analytics: dict[str, tuple[str, ...]] = {COLLECTION: LEAD_INDEXES}
    analytics[SERIOUS] = ("p", "c", "dd")  # storage/analytics_facts.ensure_fact_indexes
    for collection, fields in analytics.items():
        present = db[collection].index_information()
        missing += [f"{collection}.{name}" for name in fields if name not in present]
    return missing
